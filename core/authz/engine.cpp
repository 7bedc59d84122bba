#include "core/authz/engine.h"

#include <algorithm>
#include <unordered_set>

namespace strato::authz {

namespace {

enum class Tri : uint8_t { kNo, kYes, kError };

uint64_t Pack(uint32_t hi, uint32_t lo) {
  return (uint64_t{hi} << 32) | lo;
}

// Evaluates members for one subject. Holds the current path (for cycle detection) in a fixed
// array, so a check allocates nothing.
class Evaluator {
 public:
  enum class Failure { kNone, kDepth, kRule };

  Evaluator(const TupleReader& r, SubjectRef subject, const ContextData* context)
      : r_(r), s_(r.schema()), subject_(subject), context_(context) {}

  const std::string& rule_error() const { return rule_error_; }

  void Reset(SubjectRef subject) {
    subject_ = subject;
    len_ = 0;
    failure_ = Failure::kNone;
    failed_member_ = kNoMember;
    rule_error_.clear();
  }

  Failure failure() const { return failure_; }
  MemberId failed_member() const { return failed_member_; }

  Tri Member(MemberId m, Sym id, int depth) {
    // An entity's own subject set has the relation: group:1#member is a member of group:1.
    if (subject_.relation == m && subject_.id == id) return Tri::kYes;
    if (depth <= 0) return Fail(Failure::kDepth, m);
    for (int i = 0; i < len_; ++i) {
      if (path_[i].member == m && path_[i].id == id) return Tri::kNo;  // a cycle adds nothing
    }
    path_[len_++] = {m, id};
    Tri result = Tri::kNo;
    const MemberDef& def = s_.member(m);
    switch (def.kind) {
      case MemberKind::kRelation:
        result = Relation(m, id, depth);
        break;
      case MemberKind::kPermission:
        result = Node(def.root, id, depth);
        break;
      case MemberKind::kAttribute:
        result = BoolAttribute(m, id);
        break;
    }
    --len_;
    return result;
  }

 private:
  struct PathEntry {
    MemberId member;
    Sym id;
  };

  Tri Fail(Failure f, MemberId m) {
    if (failure_ == Failure::kNone) {
      failure_ = f;
      failed_member_ = m;
    }
    return Tri::kError;
  }

  Tri BoolAttribute(MemberId m, Sym id) {
    const Value* v = r_.Attribute(id, m);
    return v != nullptr && v->kind == Value::Kind::kBool && v->b ? Tri::kYes : Tri::kNo;
  }

  Tri Call(uint32_t call_index, Sym id) {
    const CallDef& call = s_.calls()[call_index];
    const RuleDef& rule = s_.rules()[call.rule];
    if (!rule.program) return FailRule("rule '" + rule.name + "': " + rule.program_error);
    std::vector<Value> args;
    args.reserve(call.args.size());
    for (size_t i = 0; i < call.args.size(); ++i) {
      const Value* v = r_.Attribute(id, call.args[i]);
      args.push_back(v != nullptr ? *v : EmptyValueOf(rule.args[i].second));
    }
    auto result = rule.program->Eval(args, context_);
    if (!result.ok()) return FailRule("rule '" + rule.name + "': " + result.status().message());
    return *result ? Tri::kYes : Tri::kNo;
  }

  Tri FailRule(std::string message) {
    if (failure_ == Failure::kNone) {
      failure_ = Failure::kRule;
      rule_error_ = std::move(message);
    }
    return Tri::kError;
  }

  Tri Relation(MemberId m, Sym id, int depth) {
    const RelationView v = r_.Relation(id, m);
    if (v.all.empty()) return Tri::kNo;
    if (v.all.size() <= 16) {
      for (const SubjectRef& s : v.all) {
        if (s == subject_) return Tri::kYes;
      }
    } else if (r_.Contains(id, m, subject_)) {
      return Tri::kYes;
    }
    bool error = false;
    for (const SubjectRef& set : v.sets) {
      const Tri t = Member(set.relation, set.id, depth - 1);
      if (t == Tri::kYes) return Tri::kYes;
      if (t == Tri::kError) error = true;
    }
    return error ? Tri::kError : Tri::kNo;
  }

  Tri Node(uint32_t n, Sym id, int depth) {
    const ExprNode& node = s_.nodes()[n];
    const uint32_t* kids = s_.children().data() + node.first_child;
    bool error = false;
    switch (node.kind) {
      case ExprNode::Kind::kUnion:
        for (uint32_t i = 0; i < node.child_count; ++i) {
          const Tri t = Node(kids[i], id, depth);
          if (t == Tri::kYes) return Tri::kYes;
          if (t == Tri::kError) error = true;
        }
        return error ? Tri::kError : Tri::kNo;
      case ExprNode::Kind::kIntersection:
        for (uint32_t i = 0; i < node.child_count; ++i) {
          const Tri t = Node(kids[i], id, depth);
          if (t == Tri::kNo) return Tri::kNo;
          if (t == Tri::kError) error = true;
        }
        return error ? Tri::kError : Tri::kYes;
      case ExprNode::Kind::kExclusion: {
        const Tri first = Node(kids[0], id, depth);
        if (first != Tri::kYes) return first;
        for (uint32_t i = 1; i < node.child_count; ++i) {
          const Tri t = Node(kids[i], id, depth);
          if (t == Tri::kYes) return Tri::kNo;
          if (t == Tri::kError) error = true;
        }
        return error ? Tri::kError : Tri::kYes;
      }
      case ExprNode::Kind::kMember:
        return Member(node.member, id, depth - 1);
      case ExprNode::Kind::kWalk: {
        const std::vector<MemberId>& target = s_.walks()[node.walk];
        for (const SubjectRef& s : r_.Relation(id, node.member).all) {
          const MemberId m = target[s.type];
          if (m == kNoMember) continue;
          const Tri t = Member(m, s.id, depth - 1);
          if (t == Tri::kYes) return Tri::kYes;
          if (t == Tri::kError) error = true;
        }
        return error ? Tri::kError : Tri::kNo;
      }
      case ExprNode::Kind::kAttribute:
        return BoolAttribute(node.member, id);
      case ExprNode::Kind::kCall:
        return Call(node.walk, id);
    }
    return Tri::kNo;
  }

  const TupleReader& r_;
  const Schema& s_;
  SubjectRef subject_;
  const ContextData* context_;
  std::string rule_error_;
  PathEntry path_[kMaxDepth + 1];
  int len_ = 0;
  Failure failure_ = Failure::kNone;
  MemberId failed_member_ = kNoMember;
};

struct ResolvedSubject {
  TypeId type = 0;
  MemberId relation = kNoMember;
};

Result<std::pair<TypeId, MemberId>> ResolveEntityPermission(const Schema& s,
                                                            std::string_view entity_type,
                                                            std::string_view permission) {
  auto type = s.FindType(entity_type);
  if (!type) {
    return Status::InvalidArgument("entity type '" + std::string(entity_type) +
                                   "' is not defined in the schema");
  }
  auto perm = s.FindMember(*type, permission);
  if (!perm) {
    return Status::InvalidArgument("'" + std::string(permission) +
                                   "' is not a permission or relation of entity '" +
                                   std::string(entity_type) + "'");
  }
  return std::pair{*type, *perm};
}

Result<ResolvedSubject> ResolveSubject(const Schema& s, std::string_view type,
                                       std::string_view relation) {
  auto t = s.FindType(type);
  if (!t) {
    return Status::InvalidArgument("subject type '" + std::string(type) +
                                   "' is not defined in the schema");
  }
  ResolvedSubject r{*t, kNoMember};
  if (!relation.empty() && relation != "...") {
    auto m = s.FindMember(*t, relation);
    if (!m) {
      return Status::InvalidArgument("subject relation '" + std::string(relation) +
                                     "' is not defined on entity '" + std::string(type) + "'");
    }
    r.relation = *m;
  }
  return r;
}

std::string SubjectText(std::string_view type, std::string_view id, std::string_view relation) {
  std::string s = std::string(type) + ":" + std::string(id);
  if (!relation.empty() && relation != "...") s += "#" + std::string(relation);
  return s;
}

Status EvalFailure(const Evaluator& ev, const Schema& s, std::string_view what, int depth) {
  if (ev.failure() == Evaluator::Failure::kDepth) {
    return Status::FailedPrecondition(
        std::string(what) + " went deeper than " + std::to_string(depth) +
        " nested relations and permissions (reached at " + s.MemberName(ev.failed_member()) +
        "); raise the depth or simplify the schema");
  }
  return Status::FailedPrecondition(std::string(what) + " failed in " + ev.rule_error());
}

}  // namespace

Engine::Engine(const TupleReader& reader, EngineOptions options)
    : reader_(reader), options_(options) {
  options_.default_depth = std::clamp(options_.default_depth, 1, kMaxDepth);
}

static int EffectiveDepth(int requested, int fallback) {
  return requested > 0 ? std::min(requested, kMaxDepth) : fallback;
}

Result<bool> Engine::Check(const CheckRequest& req) const {
  const Schema& s = reader_.schema();
  auto ep = ResolveEntityPermission(s, req.entity_type, req.permission);
  if (!ep.ok()) return ep.status();
  auto subject = ResolveSubject(s, req.subject_type, req.subject_relation);
  if (!subject.ok()) return subject.status();
  const int depth = EffectiveDepth(req.depth, options_.default_depth);

  SharedReadLock lock(reader_);
  auto entity_id = reader_.FindId(req.entity_id);
  auto subject_id = reader_.FindId(req.subject_id);
  if ((!entity_id || !subject_id) && !s.uses_abac()) {
    // No tuple names one of them, so only the entity's own subject set can match.
    return ep->first == subject->type && ep->second == subject->relation &&
           req.entity_id == req.subject_id;
  }
  // With attributes in the schema the evaluation must still run (an attribute may decide);
  // ids no tuple names get symbols that match no tuple.
  constexpr Sym kUnknownEntity = UINT32_MAX, kUnknownSubject = UINT32_MAX - 1;
  if (!entity_id) entity_id = kUnknownEntity;
  if (!subject_id) subject_id = req.entity_id == req.subject_id ? *entity_id : kUnknownSubject;
  Evaluator ev(reader_, SubjectRef{subject->type, *subject_id, subject->relation}, req.context);
  const Tri t = ev.Member(ep->second, *entity_id, depth);
  if (t == Tri::kError) {
    return EvalFailure(ev, s,
                       "checking " + std::string(req.entity_type) + ":" +
                           std::string(req.entity_id) + "#" + std::string(req.permission) +
                           " for " +
                           SubjectText(req.subject_type, req.subject_id, req.subject_relation),
                       depth);
  }
  return t == Tri::kYes;
}

Result<std::vector<std::string>> Engine::LookupEntities(const LookupEntitiesRequest& req) const {
  const Schema& s = reader_.schema();
  auto ep = ResolveEntityPermission(s, req.entity_type, req.permission);
  if (!ep.ok()) return ep.status();
  auto subject = ResolveSubject(s, req.subject_type, req.subject_relation);
  if (!subject.ok()) return subject.status();
  const int depth = EffectiveDepth(req.depth, options_.default_depth);
  const TypeId target = ep->first;
  const MemberId perm = ep->second;

  std::vector<std::string> out;
  SharedReadLock lock(reader_);
  auto found = reader_.FindId(req.subject_id);
  if (!found && !s.uses_abac()) {
    if (target == subject->type && perm == subject->relation) {
      out.emplace_back(req.subject_id);
    }
    return out;
  }
  constexpr Sym kUnknownSubject = UINT32_MAX - 1;
  const Sym subject_id = found ? *found : kUnknownSubject;
  std::vector<Sym> candidates;
  if (s.uses_abac()) {
    // An attribute can grant with no tuple leading to the subject: every known entity of the
    // type is a candidate.
    const auto known = reader_.KnownIds(target);
    candidates.assign(known.begin(), known.end());
  } else {
    // Every path that grants runs from the entity down tuples to the subject, so the entities
    // reachable upwards from the subject are the only candidates; each is then checked.
    std::vector<uint64_t> queue{Pack(subject->type, subject_id)};
    std::unordered_set<uint64_t> seen{queue.front()};
    for (size_t i = 0; i < queue.size(); ++i) {
      const TypeId type = static_cast<TypeId>(queue[i] >> 32);
      const Sym id = static_cast<Sym>(queue[i]);
      if (type == target) candidates.push_back(id);
      for (const Referrer& r : reader_.Referrers(type, id)) {
        const uint64_t key = Pack(s.member(r.relation).owner, r.entity_id);
        if (seen.insert(key).second) queue.push_back(key);
      }
    }
  }
  const SubjectRef who{subject->type, subject_id, subject->relation};
  Evaluator ev(reader_, who, req.context);
  for (Sym c : candidates) {
    ev.Reset(who);
    const Tri t = ev.Member(perm, c, depth);
    if (t == Tri::kError) {
      return EvalFailure(ev, s,
                         "looking up " + std::string(req.entity_type) + " entities with " +
                             std::string(req.permission) + " for " +
                             SubjectText(req.subject_type, req.subject_id, req.subject_relation),
                         depth);
    }
    if (t == Tri::kYes) out.emplace_back(reader_.IdText(c));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<std::string>> Engine::LookupSubjects(const LookupSubjectsRequest& req) const {
  const Schema& s = reader_.schema();
  auto ep = ResolveEntityPermission(s, req.entity_type, req.permission);
  if (!ep.ok()) return ep.status();
  auto subject = ResolveSubject(s, req.subject_type, req.subject_relation);
  if (!subject.ok()) return subject.status();
  const int depth = EffectiveDepth(req.depth, options_.default_depth);
  const TypeId want_type = subject->type;
  const MemberId want_rel = subject->relation;

  std::vector<std::string> out;
  SharedReadLock lock(reader_);
  auto entity_id = reader_.FindId(req.entity_id);
  if (!entity_id) {
    if (ep->first == want_type && ep->second == want_rel) out.emplace_back(req.entity_id);
    return out;
  }
  // Expand the permission forwards over every branch (excluded ones too) and collect the
  // subjects of the wanted type met on the way; each is then checked.
  std::vector<uint64_t> work{Pack(ep->second, *entity_id)};
  std::unordered_set<uint64_t> seen{work.front()};
  std::unordered_set<Sym> candidate_set;
  std::vector<Sym> candidates;
  auto candidate = [&](Sym id) {
    if (candidate_set.insert(id).second) candidates.push_back(id);
  };
  auto push = [&](MemberId m, Sym id) {
    const uint64_t key = Pack(m, id);
    if (seen.insert(key).second) work.push_back(key);
  };
  std::vector<uint32_t> nodes;
  while (!work.empty()) {
    const MemberId m = static_cast<MemberId>(work.back() >> 32);
    const Sym id = static_cast<Sym>(work.back());
    work.pop_back();
    if (want_rel != kNoMember && m == want_rel) candidate(id);
    const MemberDef& def = s.member(m);
    if (def.kind == MemberKind::kRelation) {
      for (const SubjectRef& x : reader_.Relation(id, m).all) {
        if (x.type == want_type && x.relation == want_rel) candidate(x.id);
        if (x.relation != kNoMember) push(x.relation, x.id);
      }
    } else if (def.kind == MemberKind::kPermission) {
      nodes.assign(1, def.root);
      while (!nodes.empty()) {
        const ExprNode& node = s.nodes()[nodes.back()];
        nodes.pop_back();
        switch (node.kind) {
          case ExprNode::Kind::kUnion:
          case ExprNode::Kind::kIntersection:
          case ExprNode::Kind::kExclusion:
            for (uint32_t i = 0; i < node.child_count; ++i) {
              nodes.push_back(s.children()[node.first_child + i]);
            }
            break;
          case ExprNode::Kind::kMember:
            push(node.member, id);
            break;
          case ExprNode::Kind::kWalk:
            for (const SubjectRef& x : reader_.Relation(id, node.member).all) {
              const MemberId target = s.walks()[node.walk][x.type];
              if (target != kNoMember) push(target, x.id);
            }
            break;
          case ExprNode::Kind::kAttribute:
          case ExprNode::Kind::kCall:
            break;
        }
      }
    }
  }
  if (s.uses_abac()) {
    // An attribute can grant to subjects no tuple names: every known subject is a candidate.
    for (Sym id : reader_.KnownIds(want_type)) candidate(id);
  }
  Evaluator ev(reader_, SubjectRef{want_type, 0, want_rel}, req.context);
  for (Sym c : candidates) {
    ev.Reset(SubjectRef{want_type, c, want_rel});
    const Tri t = ev.Member(ep->second, *entity_id, depth);
    if (t == Tri::kError) {
      return EvalFailure(ev, s,
                         "looking up " + SubjectText(req.subject_type, "*", req.subject_relation) +
                             " subjects with " + std::string(req.permission) + " on " +
                             std::string(req.entity_type) + ":" + std::string(req.entity_id),
                         depth);
    }
    if (t == Tri::kYes) out.emplace_back(reader_.IdText(c));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace strato::authz

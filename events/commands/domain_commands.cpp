#include "events/commands/domain_commands.h"

#include <type_traits>

namespace strato::events {
namespace {

domain::DomainEvent ToDomain(const RecordedEvent& e) {
  return {e.type, e.data};
}

template <typename State>
Result<State> Fold(const std::vector<RecordedEvent>& history) {
  State state;
  for (const auto& e : history) {
    Status s = domain::Evolve(state, ToDomain(e));
    if (!s.ok()) {
      return s.WithContext("folding " + e.stream_id + " at version " +
                           std::to_string(e.stream_version));
    }
  }
  return state;
}

std::vector<Decided> ToDecided(const domain::Events& events) {
  std::vector<Decided> out;
  out.reserve(events.size());
  for (const auto& e : events) out.push_back({e.type, e.data});
  return out;
}

// How many times a command races a concurrent change of a reservation before giving up.
constexpr int kReservationAttempts = 5;

}  // namespace

std::string BareActorId(std::string_view actor) {
  if (actor.empty()) return "system";
  auto dash = actor.find('-');
  if (dash == std::string_view::npos) return std::string(actor);
  std::string_view category = actor.substr(0, dash);
  if (category == "user" || category == "host") return std::string(actor.substr(dash + 1));
  return std::string(actor);
}

const std::vector<CommandSpec>& CommandTable() {
  static const std::vector<CommandSpec> kTable = {
      {"organization.create", "organization", "authenticated", {"OrganizationCreated"}},
      {"organization.rename", "organization", "organization:{id}#manage", {"OrganizationRenamed"}},
      {"organization.add_member", "organization", "organization:{id}#manage", {"MemberAdded"}},
      {"organization.remove_member", "organization", "organization:{id}#manage", {"MemberRemoved"}},
      {"organization.transfer_ownership",
       "organization",
       "organization:{id}#manage",
       {"OwnershipTransferred"}},
      {"user.register",
       "user",
       "public",
       {"UserRegistered", "UsernameReserved", "PasskeyAdded", "PasskeyReserved"}},
      {"user.change_display_name", "user", "user:{id}#self", {"UserDisplayNameChanged"}},
      {"user.add_passkey", "user", "user:{id}#self", {"PasskeyAdded", "PasskeyReserved"}},
      {"user.remove_passkey", "user", "user:{id}#self", {"PasskeyRemoved"}},
      // Made by the sign-in ceremony after it verified (or failed to verify) an assertion.
      {"user.record_sign_in", "user", "public", {"UserSignedIn"}},
      {"user.record_sign_in_failure", "user", "public", {"UserSignInFailed"}},
      {"host.register", "host", "host:{id}#self", {"HostRegistered"}},
      {"host.update_capacity", "host", "host:{id}#self", {"HostCapacityUpdated"}},
      {"host.cordon", "host", "host:{id}#manage", {"HostCordoned"}},
      {"host.uncordon", "host", "host:{id}#manage", {"HostUncordoned"}},
      {"host.mark_unreachable", "host", "system", {"HostUnreachable"}},
      {"host.mark_reachable", "host", "system", {"HostReachable"}},
      {"vm.create", "vm", "organization:{org}#create_vm", {"VmCreated", "VmNameReserved"}},
      {"vm.start", "vm", "vm:{id}#start", {"VmStartRequested"}},
      {"vm.stop", "vm", "vm:{id}#stop", {"VmStopRequested"}},
      {"vm.restart", "vm", "vm:{id}#restart", {"VmRestartRequested"}},
      {"vm.pause", "vm", "vm:{id}#stop", {"VmPauseRequested"}},
      {"vm.resume", "vm", "vm:{id}#start", {"VmResumeRequested"}},
      {"vm.resize", "vm", "vm:{id}#update", {"VmResized"}},
      {"vm.rename", "vm", "vm:{id}#update", {"VmRenamed", "VmNameReserved", "VmNameReleased"}},
      {"vm.delete", "vm", "vm:{id}#delete", {"VmDeleteRequested", "VmNameReleased"}},
      {"vm.schedule", "vm", "system", {"VmScheduled"}},
      {"vm.report_placement_failure", "vm", "system", {"VmPlacementFailed"}},
      {"vm.report_observed", "vm", "host:{host}#self", {"VmObserved"}},
      // Made by `strato platform grant|revoke`, run by whoever runs the installation.
      {"platform.grant_role", "platform", "system", {"PlatformRoleGranted"}},
      {"platform.revoke_role", "platform", "system", {"PlatformRoleRevoked"}},
  };
  return kTable;
}

const CommandSpec* FindCommand(std::string_view name) {
  for (const auto& c : CommandTable()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace

// One lambda per alternative: a command type added to a variant without a name here does not
// compile.
std::string_view CommandName(const domain::OrganizationCommand& command) {
  return std::visit(
      Overloaded{
          [](const domain::CreateOrganization&) { return "organization.create"; },
          [](const domain::RenameOrganization&) { return "organization.rename"; },
          [](const domain::AddMember&) { return "organization.add_member"; },
          [](const domain::RemoveMember&) { return "organization.remove_member"; },
          [](const domain::TransferOwnership&) { return "organization.transfer_ownership"; }},
      command);
}

std::string_view CommandName(const domain::UserCommand& command) {
  return std::visit(
      Overloaded{[](const domain::RegisterUser&) { return "user.register"; },
                 [](const domain::ChangeDisplayName&) { return "user.change_display_name"; },
                 [](const domain::AddPasskey&) { return "user.add_passkey"; },
                 [](const domain::RemovePasskey&) { return "user.remove_passkey"; },
                 [](const domain::RecordSignIn&) { return "user.record_sign_in"; },
                 [](const domain::RecordSignInFailure&) { return "user.record_sign_in_failure"; }},
      command);
}

std::string_view CommandName(const domain::HostCommand& command) {
  return std::visit(
      Overloaded{[](const domain::RegisterHost&) { return "host.register"; },
                 [](const domain::UpdateHostCapacity&) { return "host.update_capacity"; },
                 [](const domain::CordonHost&) { return "host.cordon"; },
                 [](const domain::UncordonHost&) { return "host.uncordon"; },
                 [](const domain::MarkHostUnreachable&) { return "host.mark_unreachable"; },
                 [](const domain::MarkHostReachable&) { return "host.mark_reachable"; }},
      command);
}

std::string_view CommandName(const domain::VmCommand& command) {
  return std::visit(
      Overloaded{
          [](const domain::CreateVm&) { return "vm.create"; },
          [](const domain::StartVm&) { return "vm.start"; },
          [](const domain::StopVm&) { return "vm.stop"; },
          [](const domain::RestartVm&) { return "vm.restart"; },
          [](const domain::PauseVm&) { return "vm.pause"; },
          [](const domain::ResumeVm&) { return "vm.resume"; },
          [](const domain::ResizeVm&) { return "vm.resize"; },
          [](const domain::RenameVm&) { return "vm.rename"; },
          [](const domain::DeleteVm&) { return "vm.delete"; },
          [](const domain::ScheduleVm&) { return "vm.schedule"; },
          [](const domain::ReportVmPlacementFailure&) { return "vm.report_placement_failure"; },
          [](const domain::ReportVmObserved&) { return "vm.report_observed"; }},
      command);
}

std::string_view CommandName(const domain::PlatformCommand& command) {
  return std::visit(
      Overloaded{[](const domain::GrantPlatformRole&) { return "platform.grant_role"; },
                 [](const domain::RevokePlatformRole&) { return "platform.revoke_role"; }},
      command);
}

Result<CommandOutcome> DomainCommands::Platform(const CommandContext& ctx,
                                                const domain::PlatformCommand& command) {
  domain::DecideContext dc{BareActorId(ctx.actor), clock_.Now()};
  return Observed(
      CommandName(command),
      pipeline_.Execute(domain::PlatformStreamId(), ctx,
                        [&](const std::vector<RecordedEvent>& history) -> Result<Decision> {
                          auto state = Fold<domain::PlatformState>(history);
                          if (!state.ok()) return state.status();
                          auto events = domain::Decide(*state, command, dc);
                          if (!events.ok()) return events.status();
                          return Decision{ToDecided(*events), {}, ""};
                        }));
}

Result<CommandOutcome> DomainCommands::Observed(std::string_view name,
                                                Result<CommandOutcome> outcome) const {
  if (observer_) observer_(name, outcome.status());
  return outcome;
}

DomainCommands::DomainCommands(EventStore& store, PipelineOptions options)
    : store_(store),
      pipeline_(store, options),
      clock_(options.clock ? *options.clock : SystemClock::Instance()) {}

Result<CommandOutcome> DomainCommands::Organization(const CommandContext& ctx,
                                                    const std::string& org_id,
                                                    const domain::OrganizationCommand& command) {
  domain::DecideContext dc{BareActorId(ctx.actor), clock_.Now()};
  return Observed(
      CommandName(command),
      pipeline_.Execute(domain::OrganizationStreamId(org_id), ctx,
                        [&](const std::vector<RecordedEvent>& history) -> Result<Decision> {
                          auto state = Fold<domain::OrganizationState>(history);
                          if (!state.ok()) return state.status();
                          auto events = domain::Decide(*state, command, dc);
                          if (!events.ok()) return events.status();
                          return Decision{ToDecided(*events), {}, ""};
                        }));
}

Result<CommandOutcome> DomainCommands::User(const CommandContext& ctx, const std::string& user_id,
                                            const domain::UserCommand& command) {
  return Observed(CommandName(command), RunUser(ctx, user_id, command));
}

Result<CommandOutcome> DomainCommands::RunUser(const CommandContext& ctx,
                                               const std::string& user_id,
                                               const domain::UserCommand& command) {
  domain::DecideContext dc{BareActorId(ctx.actor), clock_.Now()};
  return pipeline_.Execute(
      domain::UserStreamId(user_id), ctx,
      [&](const std::vector<RecordedEvent>& history) -> Result<Decision> {
        auto state = Fold<domain::UserState>(history);
        if (!state.ok()) return state.status();
        auto events = domain::Decide(*state, command, dc);
        if (!events.ok()) return events.status();
        Decision d{ToDecided(*events), {}, ""};
        if (auto* reg = std::get_if<domain::RegisterUser>(&command); reg && !events->empty()) {
          d.also.push_back({domain::UsernameStreamId(reg->username), ExpectedVersion::NoStream(),
                            ToDecided({domain::UsernameReservedEvent(user_id)}),
                            "the username " + reg->username + " is taken; choose another"});
        }
        // A credential belongs to one user: its id is reserved when it is added.
        for (const domain::DomainEvent& e : *events) {
          if (e.type != "PasskeyAdded") continue;
          domain::EventFields f(e);
          std::string credential_id = f.Str("credential_id");
          if (!f.status().ok()) return f.status();
          d.also.push_back({domain::PasskeyStreamId(credential_id), ExpectedVersion::NoStream(),
                            ToDecided({domain::PasskeyReservedEvent(user_id)}),
                            "this passkey is already registered to an account"});
        }
        return d;
      });
}

Result<CommandOutcome> DomainCommands::Host(const CommandContext& ctx, const std::string& host_id,
                                            const domain::HostCommand& command) {
  domain::DecideContext dc{BareActorId(ctx.actor), clock_.Now()};
  return Observed(
      CommandName(command),
      pipeline_.Execute(domain::HostStreamId(host_id), ctx,
                        [&](const std::vector<RecordedEvent>& history) -> Result<Decision> {
                          auto state = Fold<domain::HostState>(history);
                          if (!state.ok()) return state.status();
                          auto events = domain::Decide(*state, command, dc);
                          if (!events.ok()) return events.status();
                          return Decision{ToDecided(*events), {}, ""};
                        }));
}

Result<CommandOutcome> DomainCommands::Vm(const CommandContext& ctx, const std::string& vm_id,
                                          const domain::VmCommand& command) {
  return Observed(CommandName(command), RunVm(ctx, vm_id, command));
}

Result<CommandOutcome> DomainCommands::RunVm(const CommandContext& ctx, const std::string& vm_id,
                                             const domain::VmCommand& command) {
  domain::DecideContext dc{BareActorId(ctx.actor), clock_.Now()};
  const std::string stream = domain::VmStreamId(vm_id);

  // The name this command wants to hold, if any; its reservation stream is read before the
  // decision and appended with the version read. A concurrent change there is retried.
  std::string wanted_name;
  if (auto* c = std::get_if<domain::CreateVm>(&command)) wanted_name = c->name;
  if (auto* r = std::get_if<domain::RenameVm>(&command)) wanted_name = r->name;

  Status last;
  for (int attempt = 0; attempt < kReservationAttempts; ++attempt) {
    auto outcome = pipeline_.Execute(
        stream, ctx, [&](const std::vector<RecordedEvent>& history) -> Result<Decision> {
          auto state = Fold<domain::VmState>(history);
          if (!state.ok()) return state.status();
          auto events = domain::Decide(*state, command, dc);
          if (!events.ok()) return events.status();
          Decision d{ToDecided(*events), {}, state->host_id};
          for (const auto& e : *events) {
            if (e.type == "VmScheduled") {
              // The placement is in the event itself: publish it under the new host.
              auto* s = std::get_if<domain::ScheduleVm>(&command);
              if (s) d.host_id = s->host_id;
            }
          }
          if (events->empty()) return d;
          const std::string org =
              state->exists ? state->org_id : std::get<domain::CreateVm>(command).org_id;
          if (!wanted_name.empty() && wanted_name != state->name) {
            const std::string name_stream = domain::VmNameStreamId(org, wanted_name);
            auto held = ReadWholeStream(store_, name_stream);
            if (!held.ok()) return held.status();
            auto reservation = Fold<domain::VmNameReservation>(*held);
            if (!reservation.ok()) return reservation.status();
            auto reserve = domain::ReserveVmName(*reservation, vm_id, wanted_name);
            if (!reserve.ok()) return reserve.status();
            if (!reserve->empty()) {
              d.also.push_back({name_stream, ExpectedVersion::At(reservation->version),
                                ToDecided(*reserve),
                                "a VM named " + wanted_name +
                                    " was just created in this organization; choose another "
                                    "name"});
            }
          }
          const bool releases =
              std::holds_alternative<domain::DeleteVm>(command) ||
              (std::holds_alternative<domain::RenameVm>(command) && wanted_name != state->name);
          if (releases && state->exists && !state->name.empty()) {
            const std::string old_stream = domain::VmNameStreamId(org, state->name);
            auto held = ReadWholeStream(store_, old_stream);
            if (!held.ok()) return held.status();
            auto reservation = Fold<domain::VmNameReservation>(*held);
            if (!reservation.ok()) return reservation.status();
            if (reservation->held && reservation->vm_id == vm_id) {
              d.also.push_back({old_stream, ExpectedVersion::At(reservation->version),
                                ToDecided({domain::VmNameReleasedEvent(vm_id)}),
                                "the name " + state->name + " changed hands; try again"});
            }
          }
          return d;
        });
    if (outcome.ok() || outcome.status().code() != Code::kAlreadyExists) return outcome;
    // A reservation changed between our read and our append: read it again, decide again.
    last = outcome.status();
  }
  return last;
}

Result<domain::VmState> DomainCommands::LoadVm(const std::string& vm_id) {
  auto history = ReadWholeStream(store_, domain::VmStreamId(vm_id));
  if (!history.ok()) return history.status();
  return Fold<domain::VmState>(*history);
}

Result<domain::UserState> DomainCommands::LoadUser(const std::string& user_id) {
  auto history = ReadWholeStream(store_, domain::UserStreamId(user_id));
  if (!history.ok()) return history.status();
  return Fold<domain::UserState>(*history);
}

}  // namespace strato::events

// DomainCommands: the domain's commands executed through the CommandPipeline. For each
// aggregate it folds the target stream into state (domain Evolve), runs the pure decision
// (domain Decide) and appends, adding the reservation streams that keep usernames and VM names
// unique (an append with the reservation's expected version, in the same transaction).
//
// The command table (CommandTable) declares every command as data: its name, the aggregate it
// targets, the permission it needs (enforced by the authorization layer) and the events it may
// emit. Thread-safe as the EventStore it borrows.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/domain/host.h"
#include "core/domain/organization.h"
#include "core/domain/platform.h"
#include "core/domain/user.h"
#include "core/domain/vm.h"
#include "events/commands/command_pipeline.h"

namespace strato::events {

struct CommandSpec {
  std::string_view name;        // "vm.start"
  std::string_view aggregate;   // "vm"
  std::string_view permission;  // Permify-style: "vm:{id}#start", "organization:{org}#create_vm"
  std::vector<std::string_view> emits;
};

const std::vector<CommandSpec>& CommandTable();
const CommandSpec* FindCommand(std::string_view name);

// The command table's name of a command ("vm.start", "organization.add_member", ...).
std::string_view CommandName(const domain::OrganizationCommand& command);
std::string_view CommandName(const domain::UserCommand& command);
std::string_view CommandName(const domain::HostCommand& command);
std::string_view CommandName(const domain::VmCommand& command);
std::string_view CommandName(const domain::PlatformCommand& command);

class DomainCommands {
 public:
  explicit DomainCommands(EventStore& store, PipelineOptions options = {});

  // Told of every command's outcome (for metrics): its table name and status. Set before use;
  // called on the caller's thread.
  using Observer = std::function<void(std::string_view command, const Status& outcome)>;
  void SetObserver(Observer observer) { observer_ = std::move(observer); }

  Result<CommandOutcome> Organization(const CommandContext& ctx, const std::string& org_id,
                                      const domain::OrganizationCommand& command);
  Result<CommandOutcome> User(const CommandContext& ctx, const std::string& user_id,
                              const domain::UserCommand& command);
  Result<CommandOutcome> Host(const CommandContext& ctx, const std::string& host_id,
                              const domain::HostCommand& command);
  Result<CommandOutcome> Vm(const CommandContext& ctx, const std::string& vm_id,
                            const domain::VmCommand& command);
  // The one platform (stream platform-strato): its admins and operators.
  Result<CommandOutcome> Platform(const CommandContext& ctx,
                                  const domain::PlatformCommand& command);

  // Current state of one aggregate, folded from its stream (for tools and tests).
  Result<domain::VmState> LoadVm(const std::string& vm_id);
  Result<domain::UserState> LoadUser(const std::string& user_id);

 private:
  Result<CommandOutcome> RunUser(const CommandContext& ctx, const std::string& user_id,
                                 const domain::UserCommand& command);
  Result<CommandOutcome> RunVm(const CommandContext& ctx, const std::string& vm_id,
                               const domain::VmCommand& command);
  Result<CommandOutcome> Observed(std::string_view name, Result<CommandOutcome> outcome) const;

  Observer observer_;
  EventStore& store_;
  CommandPipeline pipeline_;
  const Clock& clock_;
};

// "user-<uuid>" -> "<uuid>"; "system" stays "system".
std::string BareActorId(std::string_view actor);

}  // namespace strato::events

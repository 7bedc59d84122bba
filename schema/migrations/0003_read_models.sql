-- The domain's read models (projections/README.md): VMs, hosts with their allocation and their
-- desired state, organizations and members, users, and relationship tuples for authorization.
-- Every row is derived from events by one projection, which owns its tables; ids are the ids
-- in the events (text), times are the recorded_at of the event that set them, and
-- last_position / position is the global_position of the last event that changed the row.

-- vms (projections/vm_projection.h). A deleted VM keeps its row (desired = 'deleted',
-- deleted = true): there is no event yet saying its host has destroyed it, and hosts and
-- operators still need to see it. Lists of live VMs filter on NOT deleted.
CREATE TABLE vms (
  vm_id text PRIMARY KEY,
  org_id text NOT NULL,
  owner_id text NOT NULL,
  name text NOT NULL,
  description text NOT NULL,
  image text NOT NULL,
  cpu_count bigint NOT NULL,
  memory_mb bigint NOT NULL,
  disk_gb bigint NOT NULL,
  desired text NOT NULL,
  generation bigint NOT NULL,
  host_id text,                -- NULL until scheduled
  placement_failure text,      -- why it could not be placed; NULL once placed or never failed
  observed text NOT NULL,      -- 'pending' until scheduled, then what its host reports
  observed_generation bigint NOT NULL,
  observed_error text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  last_position bigint NOT NULL,
  deleted boolean NOT NULL,
  CHECK (deleted = (desired = 'deleted'))
);
CREATE INDEX vms_org ON vms (org_id, name);
CREATE INDEX vms_owner ON vms (owner_id);
CREATE INDEX vms_host ON vms (host_id) WHERE host_id IS NOT NULL;
CREATE INDEX vms_pending ON vms (created_at) WHERE host_id IS NULL AND NOT deleted;

-- hosts (projections/host_projection.h). allocated_* is the sum over host_allocations.
CREATE TABLE hosts (
  host_id text PRIMARY KEY,
  name text NOT NULL,
  address text NOT NULL,
  cpu_count bigint NOT NULL,
  memory_mb bigint NOT NULL,
  disk_gb bigint NOT NULL,
  allocated_cpu_count bigint NOT NULL DEFAULT 0,
  allocated_memory_mb bigint NOT NULL DEFAULT 0,
  allocated_disk_gb bigint NOT NULL DEFAULT 0,
  cordoned boolean NOT NULL DEFAULT false,
  cordon_reason text NOT NULL DEFAULT '',
  reachable boolean NOT NULL DEFAULT true,
  unreachable_reason text NOT NULL DEFAULT '',
  hypervisor_kind text NOT NULL,
  hypervisor_version text NOT NULL,
  registered_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  last_position bigint NOT NULL
);
CREATE INDEX hosts_name ON hosts (name);

-- What each host has allocated to it: one row per VM that is scheduled on a host and not
-- deleted, with the resources it takes there.
CREATE TABLE host_allocations (
  vm_id text PRIMARY KEY,
  host_id text NOT NULL,
  cpu_count bigint NOT NULL,
  memory_mb bigint NOT NULL,
  disk_gb bigint NOT NULL
);
CREATE INDEX host_allocations_host ON host_allocations (host_id);

-- Host desired state: what each host must run (hostd reads its rows by host_id). One row per
-- VM from its creation; host_id is NULL until it is scheduled. A deleted VM's row stays with
-- desired = 'deleted', which tells its host to destroy it. last_action is what the last
-- generation change asked for (create, start, stop, restart, pause, resume, resize, delete), so
-- a host can tell a restart from a start; force is that of the last stop.
CREATE TABLE host_desired_vms (
  vm_id text PRIMARY KEY,
  host_id text,
  org_id text NOT NULL,
  name text NOT NULL,
  image text NOT NULL,
  cpu_count bigint NOT NULL,
  memory_mb bigint NOT NULL,
  disk_gb bigint NOT NULL,
  desired text NOT NULL,
  generation bigint NOT NULL,
  last_action text NOT NULL,
  force boolean NOT NULL DEFAULT false,
  position bigint NOT NULL
);
CREATE INDEX host_desired_vms_host ON host_desired_vms (host_id, vm_id);

-- organizations and organization_members (projections/org_projection.h).
CREATE TABLE organizations (
  org_id text PRIMARY KEY,
  name text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  last_position bigint NOT NULL
);
CREATE INDEX organizations_name ON organizations (name);

CREATE TABLE organization_members (
  org_id text NOT NULL,
  user_id text NOT NULL,
  role text NOT NULL CHECK (role IN ('owner', 'member')),
  PRIMARY KEY (org_id, user_id)
);
CREATE INDEX organization_members_user ON organization_members (user_id);

-- users (projections/user_projection.h). Usernames are unique by reservation in the log.
CREATE TABLE users (
  user_id text PRIMARY KEY,
  username text NOT NULL UNIQUE,
  display_name text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  last_position bigint NOT NULL
);

-- Relationship tuples (projections/relationship_projection.h), Permify's
-- entity:id#relation@subject:id[#relation]. subject_relation is '' for a plain subject, so
-- the primary key can cover every column. Checks look tuples up by entity (the primary key);
-- lists ("which VMs may this user read") look them up by subject.
CREATE TABLE relationship_tuples (
  entity_type text NOT NULL,
  entity_id text NOT NULL,
  relation text NOT NULL,
  subject_type text NOT NULL,
  subject_id text NOT NULL,
  subject_relation text NOT NULL DEFAULT '',
  PRIMARY KEY (entity_type, entity_id, relation, subject_type, subject_id, subject_relation)
);
CREATE INDEX relationship_tuples_subject
  ON relationship_tuples (subject_type, subject_id, subject_relation, entity_type, relation);

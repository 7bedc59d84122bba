-- Hosts register their accelerator and their allocation ratios (HostRegistered's fields
-- accelerator, cpu_allocation_ratio and memory_allocation_ratio; schema/events.md). Rows
-- folded from older events keep what those events mean: no accelerator said, 1:1. The
-- scheduler may place up to cpu_count x cpu_allocation_ratio vCPUs and memory_mb x
-- memory_allocation_ratio MiB on a host; disk stays 1:1.
ALTER TABLE hosts
  ADD COLUMN accelerator text NOT NULL DEFAULT '',
  ADD COLUMN cpu_allocation_ratio bigint NOT NULL DEFAULT 1 CHECK (cpu_allocation_ratio >= 1),
  ADD COLUMN memory_allocation_ratio bigint NOT NULL DEFAULT 1
    CHECK (memory_allocation_ratio >= 1);

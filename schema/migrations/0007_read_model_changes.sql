-- The web process keeps a copy of the VM list (http/vm_directory.h) and reads only the rows
-- that changed since its last look: last_position > what it holds.
CREATE INDEX vms_last_position ON vms (last_position);
CREATE INDEX organizations_last_position ON organizations (last_position);

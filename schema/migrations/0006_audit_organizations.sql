-- Which organization an audit stream belongs to, for good (projections/audit_projection.h):
-- a VM's stream (from VmCreated) and an organization's own stream (from OrganizationCreated).
-- Kept when the VM is deleted and its relationship tuples are gone, so the VM's history stays
-- readable to the members of its organization (http/visibility.h). A stream's organization
-- never changes: the first row wins.
CREATE TABLE audit_stream_organizations (
  stream_id text PRIMARY KEY,
  organization_id text NOT NULL
);
CREATE INDEX audit_stream_organizations_org ON audit_stream_organizations (organization_id);

-- What the audit projection has folded already (before this table existed), as it would have
-- written it; later events are folded by the projection itself.
INSERT INTO audit_stream_organizations (stream_id, organization_id)
SELECT DISTINCT ON (stream_id) stream_id,
       CASE WHEN type = 'OrganizationCreated' THEN substr(stream_id, 5) ELSE data->>'org_id' END
FROM events
WHERE global_position <= coalesce((SELECT position FROM projection_checkpoints
                                   WHERE name = 'audit'), 0)
  AND ((type = 'OrganizationCreated' AND stream_id LIKE 'org-%')
       OR (type = 'VmCreated' AND stream_id LIKE 'vm-%' AND jsonb_typeof(data->'org_id') = 'string'))
ORDER BY stream_id, global_position;

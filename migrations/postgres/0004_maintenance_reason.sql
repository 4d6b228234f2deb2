-- Why a host is in maintenance: 'operator' (set through the API; only an operator ends it) or
-- 'recovery' (set by the engine for the notification it names; the host's STARTED report ends
-- it). NULL while the host is not in maintenance.
ALTER TABLE hosts ADD COLUMN maintenance_reason VARCHAR(16)
    CONSTRAINT ck_hosts_maintenance_reason CHECK (maintenance_reason IN ('operator', 'recovery'));
ALTER TABLE hosts ADD COLUMN maintenance_notification_uuid VARCHAR(36);
-- Nobody recorded why the hosts already in maintenance are there: they count as the operator's,
-- the reading that never overrides an operator (only an operator takes them out, as in Masakari).
UPDATE hosts SET maintenance_reason = 'operator' WHERE on_maintenance = TRUE;

-- The recovery engine's bookkeeping: leases on notifications (several engines share a
-- database; a crashed engine's work is taken over when its lease expires), attempts and
-- retry times, operator requests, and the recovery method that actually ran.
ALTER TABLE notifications ADD COLUMN claimed_by VARCHAR(255);
ALTER TABLE notifications ADD COLUMN claim_expires_at TIMESTAMP;
ALTER TABLE notifications ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN next_attempt_at TIMESTAMP;
ALTER TABLE notifications ADD COLUMN cancel_requested BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE notifications ADD COLUMN recovery_method VARCHAR(32);
CREATE INDEX notifications_claim_idx ON notifications (status, claim_expires_at);
CREATE INDEX notifications_host_status_idx ON notifications (source_host_uuid, status);
-- One vmove per instance per notification: a resumed recovery finds the moves it started.
CREATE UNIQUE INDEX uniq_vmove0notification0instance ON vmoves (notification_uuid, instance_uuid, deleted);

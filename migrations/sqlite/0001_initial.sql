-- Lifeboat schema, SQLite. Same tables, columns and constraints as postgres/ and mysql/.
-- Soft delete as Masakari: `deleted` is 0 while live and the row's own id once deleted, so
-- UNIQUE (name, deleted) lets a name be reused after a delete.

CREATE TABLE failover_segments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid VARCHAR(36) NOT NULL,
    name VARCHAR(255) NOT NULL,
    service_type VARCHAR(255) NOT NULL,
    description TEXT,
    recovery_method VARCHAR(32) NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP,
    deleted_at TIMESTAMP,
    deleted BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT uniq_segments0uuid UNIQUE (uuid),
    CONSTRAINT uniq_segment0name0deleted UNIQUE (name, deleted),
    CONSTRAINT ck_segments_recovery_method
        CHECK (recovery_method IN ('auto', 'reserved_host', 'auto_priority', 'rh_priority'))
);
CREATE INDEX segments_service_type_idx ON failover_segments (service_type);

CREATE TABLE hosts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid VARCHAR(36) NOT NULL,
    name VARCHAR(255) NOT NULL,
    reserved BOOLEAN NOT NULL DEFAULT 0,
    type VARCHAR(255) NOT NULL,
    control_attributes TEXT NOT NULL,
    on_maintenance BOOLEAN NOT NULL DEFAULT 0,
    failover_segment_id VARCHAR(36) NOT NULL REFERENCES failover_segments (uuid),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP,
    deleted_at TIMESTAMP,
    deleted BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT uniq_host0uuid UNIQUE (uuid),
    CONSTRAINT uniq_host0name0deleted UNIQUE (name, deleted)
);
CREATE INDEX hosts_type_idx ON hosts (type);
CREATE INDEX hosts_segment_idx ON hosts (failover_segment_id, deleted);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_uuid VARCHAR(36) NOT NULL,
    generated_time TIMESTAMP NOT NULL,
    source_host_uuid VARCHAR(36) NOT NULL,
    type VARCHAR(36) NOT NULL,
    payload TEXT NOT NULL,
    -- SHA-256 of the canonical payload: duplicate detection looks reports up by it.
    payload_hash VARCHAR(64) NOT NULL,
    status VARCHAR(16) NOT NULL,
    failover_segment_uuid VARCHAR(36),
    message TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP,
    deleted_at TIMESTAMP,
    deleted BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT uniq_notification0uuid UNIQUE (notification_uuid),
    CONSTRAINT ck_notifications_status
        CHECK (status IN ('new', 'running', 'error', 'failed', 'ignored', 'finished'))
);
-- Duplicate detection looks up (host, type, payload, time window); the in-use gate looks up
-- (segment, status).
CREATE INDEX notifications_duplicate_idx
    ON notifications (source_host_uuid, type, payload_hash, generated_time);
CREATE INDEX notifications_segment_status_idx ON notifications (failover_segment_uuid, status);
CREATE INDEX notifications_status_idx ON notifications (status);

CREATE TABLE vmoves (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid VARCHAR(36) NOT NULL,
    notification_uuid VARCHAR(36) NOT NULL,
    instance_uuid VARCHAR(36) NOT NULL,
    instance_name VARCHAR(255) NOT NULL,
    source_host VARCHAR(255),
    dest_host VARCHAR(255),
    start_time TIMESTAMP,
    end_time TIMESTAMP,
    type VARCHAR(36) NOT NULL,
    status VARCHAR(36) NOT NULL,
    message TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP,
    deleted_at TIMESTAMP,
    deleted BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT uniq_vmove0uuid UNIQUE (uuid)
);
CREATE INDEX vmoves_notification_idx ON vmoves (notification_uuid);

-- One row per workflow step per attempt; `details` is a JSON array of progress lines.
CREATE TABLE recovery_steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_uuid VARCHAR(36) NOT NULL,
    attempt BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    name VARCHAR(255) NOT NULL,
    state VARCHAR(16) NOT NULL,
    progress DOUBLE PRECISION NOT NULL DEFAULT 0,
    details TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP,
    CONSTRAINT uniq_step0notification0attempt0seq UNIQUE (notification_uuid, attempt, seq)
);

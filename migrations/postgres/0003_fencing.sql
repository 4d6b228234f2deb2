-- Fencing: each host's fence devices (the levels of its fence topology) and the fence history.
-- Passwords are stored sealed (AES-256-GCM under a key kept outside the database,
-- [fencing] credential_key_file); the API never returns them.

CREATE TABLE fence_devices (
    id BIGSERIAL PRIMARY KEY,
    uuid VARCHAR(36) NOT NULL,
    host_uuid VARCHAR(36) NOT NULL REFERENCES hosts (uuid),
    name VARCHAR(255) NOT NULL,
    level BIGINT NOT NULL,
    driver VARCHAR(64) NOT NULL,
    address VARCHAR(255),
    username VARCHAR(255),
    password_sealed TEXT,
    -- A JSON object of option names and values.
    options TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP,
    CONSTRAINT uniq_fence_device0uuid UNIQUE (uuid),
    CONSTRAINT uniq_fence_device0host0name UNIQUE (host_uuid, name)
);

CREATE TABLE fence_history (
    id BIGSERIAL PRIMARY KEY,
    host VARCHAR(255) NOT NULL,
    device VARCHAR(255) NOT NULL,
    level BIGINT NOT NULL,
    action VARCHAR(16) NOT NULL,
    succeeded BOOLEAN NOT NULL,
    message TEXT NOT NULL,
    duration_ms BIGINT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX fence_history_host_idx ON fence_history (host, started_at);

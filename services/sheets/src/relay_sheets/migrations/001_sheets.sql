-- What sheets knows of each tenant: its name, channels and sheet backend (from
-- tenant.configured and the config version of each offers.merged; only forward).
CREATE TABLE tenants (
    tenant_id        text        PRIMARY KEY,
    name             text        NOT NULL DEFAULT '',
    channels         text[]      NOT NULL DEFAULT '{}',
    backend          text        NOT NULL DEFAULT 'xlsx' CHECK (backend IN ('xlsx', 'google')),
    shared_drive_id  text,
    share_with       text[]      NOT NULL DEFAULT '{}',
    config_version   int         NOT NULL DEFAULT 0,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Folders made for a tenant: the root ('' channel) and one per channel, per backend.
-- A row is written right after Drive made the folder; a restart or replayed event reuses it.
CREATE TABLE folders (
    tenant_id   text        NOT NULL,
    channel     text        NOT NULL,
    backend     text        NOT NULL,
    drive_id    text        NOT NULL,
    name        text        NOT NULL,
    shared_with text[]      NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, channel, backend)
);

-- Every spreadsheet Relay writes, and its sync state: ok, or failed (a permanent problem
-- such as the file deleted or unshared) with its code and reason.
CREATE TABLE spreadsheets (
    tenant_id     text        NOT NULL,
    channel       text        NOT NULL,
    title         text        NOT NULL,
    backend       text        NOT NULL,
    file_id       text,
    state         text        NOT NULL DEFAULT 'ok' CHECK (state IN ('ok', 'failed')),
    problem_code  text,
    problem       text,
    synced_at     timestamptz,
    writes        bigint      NOT NULL DEFAULT 0,
    reported_seq  int         NOT NULL DEFAULT 0,
    reported_at   timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, channel, title, backend)
);

-- The periodic Drive listing of each channel folder: files modified since last_scan_at.
CREATE TABLE folder_scans (
    tenant_id     text        NOT NULL,
    channel       text        NOT NULL,
    backend       text        NOT NULL,
    last_scan_at  text        NOT NULL,
    PRIMARY KEY (tenant_id, channel, backend)
);

-- Each spreadsheet the merchant put in a channel folder, as last read: imported (with the
-- listings key) or the reason it could not be read.
CREATE TABLE uploads (
    tenant_id     text        NOT NULL,
    channel       text        NOT NULL,
    file_id       text        NOT NULL,
    name          text        NOT NULL,
    modified_at   text        NOT NULL,
    status        text        NOT NULL CHECK (status IN ('imported', 'rejected', 'ignored')),
    problems      jsonb       NOT NULL DEFAULT '[]',
    listings_key  text,
    rows          int,
    read_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, channel, file_id)
);

-- Events whose effect is stored (a redelivery changes nothing).
CREATE TABLE processed_events (
    event_id      text        PRIMARY KEY,
    processed_at  timestamptz NOT NULL DEFAULT now()
);

-- Transactional outbox (sheet.synced, listings.imported).
\include relay_shared.outbox

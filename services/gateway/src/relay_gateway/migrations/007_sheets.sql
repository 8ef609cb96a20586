-- The gateway's read model of the sheets each tenant has (it cannot read the sheets schema):
-- fed by sheet.synced, one row per spreadsheet, its latest report (by seq; an older or
-- repeated report changes nothing).
CREATE TABLE tenant_sheets (
    tenant_id     text        NOT NULL,
    channel       text        NOT NULL,  -- '' for the tenant's root spreadsheets
    title         text        NOT NULL,
    backend       text        NOT NULL,
    file_id       text,
    state         text        NOT NULL CHECK (state IN ('ok', 'failed')),
    problem_code  text,
    problem       text,
    synced_at     timestamptz,
    seq           int         NOT NULL,
    reported_at   timestamptz NOT NULL,
    event_id      text        NOT NULL,
    PRIMARY KEY (tenant_id, channel, title, backend)
);

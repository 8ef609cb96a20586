-- Who activated which config, and how: a version restored from an earlier one names it; a
-- version activated with a preview names the preview and whether an owner forced it past the
-- config's guard.
ALTER TABLE config_versions
    ADD COLUMN restored_from int,
    ADD COLUMN preview_id    text,
    ADD COLUMN forced        boolean NOT NULL DEFAULT false;

-- A config preview's proposed config is stored as a version of kind 'preview' (so the
-- services load it by number like any version) but never becomes current; version numbers
-- are shared by both kinds.
ALTER TABLE config_versions
    ADD COLUMN kind text NOT NULL DEFAULT 'active' CHECK (kind IN ('active', 'preview'));

"""Reference back office (HTTP API + database): built by the sync issue."""

"""Updates (docs/updates.md): fetch and verify, releases side by side, the launcher."""

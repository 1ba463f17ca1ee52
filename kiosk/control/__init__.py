"""The running kiosk answers its own CLI over a Unix socket (issue 15 §2)."""

"""Updates for the fleet: the TUF repository and which release each kiosk runs."""

"""openstack CLI commands for Lifeboat's own API features."""

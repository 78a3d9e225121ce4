"""Sources that fill an Inventory: static (repository files) and others."""

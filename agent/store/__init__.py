"""Task stores: one Protocol, one file per backend, one factory."""

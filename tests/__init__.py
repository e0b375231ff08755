"""The kit's test suite; its folders mirror the packages (see docs/architecture.md)."""

"""One construct per file; the stacks under ``stacks/`` assemble them."""

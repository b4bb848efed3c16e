"""outputs: a solve's tables (tables), written atomically (files), only over procure's own files (ownership)."""

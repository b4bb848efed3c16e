"""report: the pipeline that writes the report beside a plan (pipeline), the document (md/html) and its plots."""

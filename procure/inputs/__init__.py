"""inputs: the instance read and checked (schema, validation) and turned into model data (data), on quarters."""

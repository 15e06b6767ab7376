"""Pure engines: plain data in, plain data out. Nothing here imports Django."""

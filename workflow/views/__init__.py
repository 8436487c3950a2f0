"""Read models shared by the edges: each view runs its query here, once, and hands plain data
to the CLI and the HTTP API, which shape their own output."""

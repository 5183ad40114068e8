"""crmsync actors: change streams, router, record actors and batching reader/writers."""

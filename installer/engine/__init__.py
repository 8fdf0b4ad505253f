"""The install engine: phases, events and the context they share."""

"""Who is asking: token verification, the Viewer, and permission classes."""

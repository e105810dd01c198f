"""tap-getresponse: Singer tap for the GetResponse REST API v3, and the shared HTTP layer."""

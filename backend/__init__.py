"""syncboard server: a Tornado y-websocket relay, one authoritative pycrdt document per board."""

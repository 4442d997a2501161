"""Web-shopping tasks: the generated product catalog and WebShop-style instructions over it."""

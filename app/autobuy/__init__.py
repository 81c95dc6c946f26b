"""AutoBuy Guard: the API and price engine."""

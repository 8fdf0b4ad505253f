"""What every part of Keel shares: the config and hardware types, events, defaults and value rules, locales,
the keel.* kernel parameters and the live.json contract. It imports nothing else of Keel."""

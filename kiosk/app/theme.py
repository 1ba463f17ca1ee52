"""The kiosk's colours: the normal palette, and the high-contrast one of large-text
mode (yellow on black). Keys and options share one flat style (`key`, `chosen`);
actions are filled with `accent`."""

PALETTES = {
    False: {
        "bg": [0.07, 0.12, 0.22, 1],
        "fg": [1, 1, 1, 1],
        "accent": [0.16, 0.55, 0.35, 1],
        "panel": [0.12, 0.19, 0.32, 1],
        "warn": [0.85, 0.35, 0.2, 1],
        "muted": [0.75, 0.8, 0.88, 1],
        "key": [0.22, 0.3, 0.45, 1],  # keys and options: one flat style
        "chosen": [0.18, 0.5, 0.8, 1],  # a chosen option, a pressed or lit key
    },
    True: {
        "bg": [0, 0, 0, 1],
        "fg": [1, 1, 0, 1],
        "accent": [0, 0.45, 0, 1],
        "panel": [0.1, 0.1, 0.1, 1],
        "warn": [1, 0.2, 0.2, 1],
        "muted": [1, 1, 1, 1],
        "key": [0.2, 0.2, 0.2, 1],
        "chosen": [0, 0.35, 0.9, 1],
    },
}

"""Random run names like MLflow's ``_generate_random_name`` (``mlflow/utils/name_utils.py``): adjective-noun-123."""

from __future__ import annotations

import random

_ADJECTIVES = (
    "able", "agile", "amazing", "amusing", "bemused", "bold", "brave", "bright", "calm", "capable",
    "carefree", "clean", "clever", "crawling", "dapper", "defiant", "delicate", "dashing", "eager", "early",
    "enchanting", "fearless", "funny", "gentle", "glamorous", "gifted", "grandiose", "honorable", "hilarious",
    "illustrious", "indecisive", "judicious", "kindly", "languid", "learned", "lyrical", "magnificent",
    "merciful", "mysterious", "nebulous", "nimble", "orderly", "overjoyed", "polite", "puzzled", "quiet",
    "redolent", "rogue", "rumbling", "salty", "secretive", "shivering", "silent", "skillful", "smiling",
    "spiffy", "stately", "suave", "sincere", "thoughtful", "traveling", "trusting", "unique", "upbeat",
    "valuable", "victorious", "vaunted", "welcoming", "wise", "worried", "youthful", "zealous",
)
_NOUNS = (
    "ant", "ape", "asp", "auk", "bass", "bat", "bear", "bee", "bird", "boar", "bug", "calf", "carp", "cat",
    "chimp", "cod", "colt", "conch", "cow", "crab", "crane", "croc", "crow", "cub", "deer", "doe", "dog",
    "dolphin", "donkey", "dove", "duck", "eel", "elk", "fawn", "finch", "fish", "flea", "fly", "foal", "fowl",
    "fox", "frog", "gnat", "gnu", "goat", "goose", "grouse", "grub", "gull", "hare", "hawk", "hen", "hog",
    "horse", "hound", "jay", "kit", "kite", "koi", "lamb", "lark", "loon", "lynx", "mare", "midge", "mink",
    "mole", "moose", "moth", "mouse", "mule", "newt", "owl", "ox", "panda", "penguin", "perch", "pig", "pug",
    "quail", "ram", "rat", "ray", "robin", "roo", "rook", "seal", "shad", "shark", "sheep", "shrew", "skink",
    "skunk", "sloth", "slug", "snail", "snake", "snipe", "squid", "stag", "steed", "stoat", "stork", "swan",
    "tern", "toad", "trout", "turtle", "vole", "wasp", "whale", "wolf", "worm", "wren", "yak", "zebra",
)


def generate_run_name(max_length: int = 20) -> str:
    """``adjective-noun-NNN`` of at most ``max_length`` characters, as MLflow names unnamed runs."""
    while True:
        name = f"{random.choice(_ADJECTIVES)}-{random.choice(_NOUNS)}-{random.randint(0, 999)}"
        if len(name) <= max_length:
            return name

"""Word lists and templates of the generated shop catalog (departments, product types, attributes).

Everything the catalog generator and the instruction generator draw from lives here, as plain
Python data, so a catalog is a pure function of ``(seed, size)`` and of this module. Attribute and
option phrases are lower case, as in WebShop's goals; option values never contain commas (the
instruction text separates options with commas).
"""

from __future__ import annotations

from dataclasses import dataclass

# fmt: off
#: Option groups: name -> every value it may take.
OPTION_VALUES: dict[str, tuple[str, ...]] = {
    "flavor": (
        "sea salt", "barbecue", "sour cream and onion", "honey mustard", "chocolate", "vanilla",
        "peanut butter", "strawberry", "cinnamon", "original", "salted caramel", "lemon",
    ),
    "pack size": ("6 pack", "12 pack", "24 pack", "36 pack", "8 ounce", "16 ounce", "2 pound"),
    "size": ("x-small", "small", "medium", "large", "x-large", "xx-large"),
    "shoe size": ("6", "7", "7.5", "8", "8.5", "9", "9.5", "10", "10.5", "11", "12"),
    "color": (
        "black", "white", "navy blue", "gray", "red", "olive green", "khaki", "burgundy", "light blue",
        "pink", "beige", "teal",
    ),
    "scent": ("lavender", "coconut", "unscented", "rose", "eucalyptus", "citrus", "sandalwood"),
    "volume": ("1 fl oz", "2 fl oz", "4 fl oz", "8 fl oz", "16 fl oz", "32 fl oz"),
    "set size": ("set of 2", "set of 4", "set of 6", "single"),
    "capacity": ("16 oz", "20 oz", "24 oz", "32 oz", "40 oz"),
    "length": ("3 ft", "6 ft", "10 ft", "15 ft"),
    "pet size": ("small", "medium", "large", "x-large"),
    "count": ("30 count", "60 count", "90 count", "120 count", "180 count"),
    "weight": ("5 lb", "10 lb", "15 lb", "20 lb", "25 lb"),
}


@dataclass(frozen=True)
class ProductType:
    """A kind of product: its name (WebShop's ``query``), category path, option groups, price range."""

    name: str
    path: tuple[str, ...]
    options: tuple[str, ...]
    price: tuple[float, float]
    #: Department attributes that make no sense for this type (a shoe has no sleeves).
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class Department:
    """A top-level category: its attribute pool, product types and copy-writing sentences."""

    name: str
    attributes: tuple[str, ...]
    types: tuple[ProductType, ...]
    pitches: tuple[str, ...]
    adjectives: tuple[str, ...]


def _t(name: str, path: str, options: str, lo: float, hi: float, exclude: str = "") -> ProductType:
    path_parts = tuple(p.strip() for p in path.split(">"))
    excluded = tuple(filter(None, exclude.split("|")))
    return ProductType(name, path_parts, tuple(options.split("|")), (lo, hi), excluded)


_HOUSEHOLD = "easy to swallow|vegan|sugar free|gluten free|non gmo"
_SUPPLEMENT = "unscented"
_CATS = "for small dogs|for large dogs"
_WIRED = "wireless|bluetooth|noise cancelling|long battery life"
_TEXTILE = "non stick|dishwasher safe|microwave safe|bpa free"
_DISHES = "machine washable|easy assembly"
_NO_SLEEVES = "long sleeve|short sleeve|button closure|elastic waist|slim fit|relaxed fit|classic fit"
DEPARTMENTS: tuple[Department, ...] = (
    Department(
        "Grocery & Gourmet Food",
        (
            "gluten free", "non gmo", "sugar free", "low carb", "keto friendly", "vegan", "organic",
            "kosher certified", "high protein", "dairy free", "nut free", "low sodium",
            "individually wrapped", "ready to eat", "natural ingredients",
        ),
        (
            _t("snack pack", "Snack Foods > Chips & Crisps", "flavor|pack size", 6, 40),
            _t("protein bar", "Snack Foods > Bars > Protein Bars", "flavor|pack size", 10, 45),
            _t("granola", "Breakfast Foods > Cereals > Granola", "flavor|pack size", 5, 30),
            _t("beef jerky", "Snack Foods > Jerky & Dried Meats", "flavor|pack size", 8, 50),
            _t("trail mix", "Snack Foods > Nuts & Seeds > Trail Mix", "flavor|pack size", 6, 35),
            _t("herbal tea", "Beverages > Tea > Herbal", "flavor|pack size", 4, 25),
            _t("cookies", "Snack Foods > Cookies", "flavor|pack size", 4, 30),
        ),
        (
            "A tasty treat for lunch boxes, road trips and the office.",
            "Made in small batches with simple ingredients you can pronounce.",
            "Every bite is packed with flavor and crunch.",
            "Store in a cool, dry place and enjoy within weeks of opening.",
        ),
        ("crunchy", "delicious", "premium", "gourmet", "classic", "wholesome"),
    ),
    Department(
        "Clothing, Shoes & Jewelry",
        (
            "machine washable", "hand wash only", "slim fit", "relaxed fit", "moisture wicking",
            "quick drying", "long sleeve", "short sleeve", "button closure", "elastic waist",
            "cotton spandex", "polyester spandex", "breathable fabric", "classic fit",
        ),
        (
            _t("t-shirt", "Men > Clothing > Shirts > T-Shirts", "size|color", 9, 35),
            _t("summer dress", "Women > Clothing > Dresses > Casual", "size|color", 18, 70),
            _t("jogger pants", "Men > Clothing > Pants > Joggers", "size|color", 15, 55),
            _t("pullover hoodie", "Women > Clothing > Fashion Hoodies & Sweatshirts", "size|color", 20, 65),
            _t("yoga leggings", "Women > Clothing > Active > Leggings", "size|color", 12, 48),
            _t("running shoes", "Men > Shoes > Athletic > Running", "shoe size|color", 35, 140, _NO_SLEEVES),
            _t("ankle socks", "Men > Clothing > Socks > Athletic Socks", "size|color", 6, 25, _NO_SLEEVES),
        ),
        (
            "Soft fabric that keeps its shape wash after wash.",
            "Designed for all-day comfort at home, at work or at the gym.",
            "A wardrobe staple that pairs with everything.",
            "Tailored cut with reinforced seams for durability.",
        ),
        ("casual", "lightweight", "everyday", "stylish", "soft", "comfortable"),
    ),
    Department(
        "Beauty & Personal Care",
        (
            "paraben free", "cruelty free", "sulfate free", "long lasting", "dermatologist tested",
            "fragrance free", "travel size", "hyaluronic acid", "vitamin c", "for sensitive skin",
            "easy to use", "natural ingredients",
        ),
        (
            _t("face moisturizer", "Skin Care > Face > Creams & Moisturizers", "scent|volume", 8, 60),
            _t("shampoo", "Hair Care > Shampoo & Conditioner > Shampoos", "scent|volume", 6, 35),
            _t(
                "body wash", "Personal Care > Bath & Bathing Accessories > Body Washes", "scent|volume", 5, 25
            ),
            _t("lip balm", "Skin Care > Lip Care > Balms & Moisturizers", "scent|set size", 3, 18),
            _t("hair oil", "Hair Care > Styling Products > Hair Oils", "scent|volume", 7, 40),
            _t("nail polish", "Foot, Hand & Nail Care > Nail Polish", "color|set size", 5, 25),
        ),
        (
            "Gentle enough for daily use on every skin type.",
            "A light texture that absorbs quickly without a greasy feel.",
            "Formulated with care and tested for quality.",
            "Leaves you feeling refreshed from morning to night.",
        ),
        ("nourishing", "gentle", "luxurious", "soothing", "hydrating", "professional"),
    ),
    Department(
        "Home & Kitchen",
        (
            "dishwasher safe", "bpa free", "easy to clean", "non stick", "heavy duty", "space saving",
            "stainless steel", "easy assembly", "microwave safe", "eco friendly", "machine washable",
        ),
        (
            _t("coffee mug", "Kitchen & Dining > Dining & Entertaining > Mugs", "color|capacity", 8, 30,
                _DISHES),
            _t(
                "throw pillow cover", "Home Decor > Decorative Pillows > Throw Pillow Covers",
                "color|set size",
                8,
                35, _TEXTILE),
            _t(
                "cutting board", "Kitchen & Dining > Kitchen Utensils > Cutting Boards", "size|set size",
                10,
                45, _DISHES),
            _t("storage bins", "Storage & Organization > Baskets & Bins", "color|set size", 12, 50, _TEXTILE),
            _t("bath towel set", "Bath > Towels > Towel Sets", "color|set size", 18, 70, _TEXTILE),
            _t("table lamp", "Lighting > Lamps & Shades > Table Lamps", "color|set size", 20, 90, _TEXTILE),
            _t("shower curtain", "Bath > Shower Curtains & Accessories", "color|length", 10, 40, _TEXTILE),
        ),
        (
            "Adds a clean, modern touch to any room.", "Built to last through years of everyday use.",
            "Makes a thoughtful gift for housewarmings and holidays.",
            "Easy to store when you are not using it.",
        ),
        ("modern", "rustic", "elegant", "minimalist", "durable", "decorative"),
    ),
    Department(
        "Electronics",
        (
            "fast charging", "wireless", "bluetooth", "noise cancelling", "water resistant",
            "long battery life", "usb c", "high definition", "plug and play", "lightweight",
        ),
        (
            _t("wireless earbuds", "Headphones > Earbud Headphones", "color|set size", 20, 150),
            _t("phone case", "Cell Phones & Accessories > Cases & Covers", "color|set size", 8, 35, _WIRED),
            _t("charging cable", "Computers & Accessories > Cables > USB Cables", "color|length", 6, 25,
                _WIRED),
            _t(
                "portable charger", "Cell Phones & Accessories > Chargers & Power Adapters",
                "color|set size",
                15,
                60,
            ),
            _t("bluetooth speaker", "Portable Audio & Video > Portable Speakers", "color|set size", 20, 120),
            _t(
                "hdmi cable", "Television & Video > Accessories > Cables > HDMI Cables", "length|set size",
                6,
                30, _WIRED),
        ),
        (
            "Pairs in seconds with phones, tablets and laptops.",
            "Compact design that slips into a pocket or bag.",
            "Backed by a friendly support team and a one year warranty.",
            "Tested for reliable performance day after day.",
        ),
        ("compact", "portable", "premium", "upgraded", "powerful", "universal"),
    ),
    Department(
        "Sports & Outdoors",
        (
            "lightweight", "water resistant", "non slip", "adjustable", "durable", "portable", "foldable",
            "high density", "easy to clean", "bpa free",
        ),
        (
            _t("yoga mat", "Exercise & Fitness > Yoga > Mats", "color|size", 15, 60),
            _t(
                "water bottle", "Outdoor Recreation > Camping & Hiking > Hydration > Water Bottles",
                "color|capacity",
                10,
                40,
            ),
            _t(
                "resistance bands", "Exercise & Fitness > Strength Training > Resistance Bands",
                "color|set size",
                8,
                35,
            ),
            _t(
                "camping chair", "Outdoor Recreation > Camping & Hiking > Camp Furniture > Chairs",
                "color|size",
                25,
                90,
            ),
            _t("hiking backpack", "Outdoor Recreation > Camping & Hiking > Backpacks", "color|size", 30, 130),
            _t(
                "dumbbell set", "Exercise & Fitness > Strength Training > Dumbbells", "weight|set size",
                20,
                150,
            ),
        ),
        (
            "Ready for the trail, the gym or the backyard.",
            "Tough materials stand up to sweat, sun and rain.", "Packs down small and sets up in seconds.",
            "Trusted by athletes and weekend adventurers alike.",
        ),
        ("sturdy", "professional", "compact", "versatile", "rugged", "ergonomic"),
    ),
    Department(
        "Pet Supplies",
        (
            "grain free", "natural ingredients", "easy to clean", "non toxic", "durable", "washable",
            "for small dogs", "for large dogs", "made in usa", "vet recommended",
        ),
        (
            _t("dog treats", "Dogs > Treats > Biscuits", "flavor|pack size", 6, 35),
            _t("cat litter", "Cats > Litter & Housebreaking > Litter", "scent|weight", 10, 40, _CATS),
            _t("dog bed", "Dogs > Beds & Furniture > Beds", "pet size|color", 20, 90),
            _t("cat toy", "Cats > Toys > Balls", "color|set size", 4, 20, _CATS),
            _t("dog collar", "Dogs > Collars, Harnesses & Leashes > Collars", "pet size|color", 7, 28),
            _t("pet shampoo", "Dogs > Grooming > Shampoos", "scent|volume", 6, 25),
        ),
        (
            "Your furry friend will love it from day one.", "Made with care for pets of every age.",
            "A vet-approved choice for happy, healthy pets.", "Sized right for everyday play and rest.",
        ),
        ("premium", "cozy", "tasty", "chew-resistant", "plush", "natural"),
    ),
    Department(
        "Health & Household",
        (
            "non gmo", "gluten free", "easy to swallow", "vegan", "sugar free", "third party tested",
            "unscented", "hypoallergenic", "made in usa", "travel size",
        ),
        (
            _t(
                "multivitamin gummies", "Vitamins & Dietary Supplements > Multivitamins", "flavor|count",
                10,
                40, _SUPPLEMENT),
            _t("fish oil softgels", "Vitamins & Dietary Supplements > Fish Oil", "count|set size", 12,
                45, _SUPPLEMENT),
            _t("probiotic capsules", "Vitamins & Dietary Supplements > Probiotics", "count|set size",
                15, 55, _SUPPLEMENT),
            _t("hand sanitizer", "Health Care > First Aid > Hand Sanitizers", "scent|volume", 4, 20,
                _HOUSEHOLD),
            _t("laundry detergent", "Household Supplies > Laundry > Detergent", "scent|volume", 8, 35,
                _HOUSEHOLD),
            _t(
                "paper towels", "Household Supplies > Paper & Plastic > Paper Towels", "pack size|set size",
                10,
                40, _HOUSEHOLD),
        ),
        (
            "Trusted by families for everyday wellness.",
            "Made in facilities that follow strict quality standards.",
            "Simple to fit into your daily routine.", "Value size keeps you stocked up for weeks.",
        ),
        ("daily", "advanced", "essential", "ultra", "trusted", "extra strength"),
    ),
)

BRAND_HEADS: tuple[str, ...] = (
    "Zen", "Aura", "Nova", "Prime", "Urban", "Pure", "Blue", "Bright", "Golden", "Happy", "Evo", "True",
    "Wild", "Terra", "Luna", "Vita", "Peak", "Sun", "Maple", "Ever", "Kind", "North",
)
BRAND_TAILS: tuple[str, ...] = (
    "ly", "ora", "wise", "nest", "field", "craft", "co", "line", "gear", "works", "life", "mart", "go",
    "vibe", "haus", "ton",
)

#: Feature bullet templates; ``{A}`` is an attribute in upper case, ``{a}`` in lower case.
FEATURE_TEMPLATES: tuple[str, ...] = (
    "{A}: this {t} is {a}, so you can use it with confidence.",
    "{A} - every {t} we make is {a} and checked by hand.", "{A}: a {a} {t} for the whole family.",
    "WHY {A}? Because a {a} {t} simply works better day to day.",
)
DESCRIPTION_OPENINGS: tuple[str, ...] = (
    "Meet the {b} {t}.", "Introducing the {adj} {t} from {b}.",
    "The {b} {t} is made for people who want more.", "Looking for a {adj} {t}? {b} has you covered.",
)
REVIEW_TEMPLATES: tuple[tuple[int, str], ...] = (
    (5, "Exactly what I wanted. This {t} is great and arrived quickly."),
    (5, "Love it! Bought a second one for my family."),
    (4, "Good {t} for the price, would buy again."),
    (4, "Works well so far. The {o} looks just like the pictures."),
    (3, "It is okay. Not bad, not amazing."),
    (2, "Smaller than I expected, and the packaging was damaged."),
    (1, "Stopped working after a week. Disappointed."),
)
REVIEWERS: tuple[str, ...] = ("Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery")

#: Instruction templates (WebShop style): ``{art}`` article, ``{attrs}``, ``{t}`` type.
INSTRUCTION_OPENINGS: tuple[str, ...] = (
    "i need {art} {attrs} {t}", "i am looking for {art} {attrs} {t}", "i'm looking for {art} {attrs} {t}",
    "find me {art} {attrs} {t}", "i want to buy {art} {attrs} {t}", "can you get me {art} {attrs} {t}",
)
PRICE_PHRASES: tuple[str, ...] = (
    ", and price lower than {p:.2f} dollars", " under {p:.0f} dollars",
    ", and price lower than {p:.0f} dollars",
)
#: Price bounds are multiples of ten dollars, as in WebShop's goals.
PRICE_STEP = 10.0
# fmt: on


def all_attributes() -> tuple[str, ...]:
    """Every attribute phrase of every department (deduplicated, in first-seen order)."""
    return tuple(dict.fromkeys(a for d in DEPARTMENTS for a in d.attributes))


def all_types() -> tuple[tuple[Department, ProductType], ...]:
    """Every product type with its department, in catalog order."""
    return tuple((d, t) for d in DEPARTMENTS for t in d.types)

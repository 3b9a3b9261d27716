"""Realistic, varied product names for demos, tests and benchmarks.

A catalog where every name shares its words with thousands of others is what makes fuzzy
search hard; these names mix a few hundred product types, brands, materials, colours,
styles and model numbers the way real catalogs do, with French accents.
"""

import random
from collections.abc import Iterator

TYPES = """chaussure basket bottine sandale escarpin mocassin derby botte espadrille chausson
veste manteau blouson parka imperméable gilet cardigan pull sweat hoodie chemise chemisier
t-shirt polo débardeur robe jupe pantalon jean short legging combinaison salopette
écharpe foulard bonnet casquette chapeau gants ceinture cravate nœud-papillon chaussettes
sac sacoche cartable pochette portefeuille porte-monnaie valise sac-à-dos banane cabas
montre bracelet collier bague boucles-d'oreilles broche lunettes pendentif
lampe lampadaire applique suspension bougie vase miroir cadre horloge coussin plaid tapis
rideau nappe serviette torchon drap housse-de-couette oreiller couverture
théière cafetière bouilloire tasse mug bol assiette plat saladier verre carafe poêle
casserole cocotte wok couteau planche-à-découper fouet passoire râpe moule tablier
fauteuil chaise tabouret canapé table bureau étagère commode armoire buffet console
enceinte casque écouteurs chargeur câble batterie clavier souris tapis-de-souris webcam
carnet agenda stylo crayon feutre cahier classeur trousse règle agrafeuse
savon shampooing crème baume sérum parfum bougie-parfumée diffuseur huile brosse peigne
ballon raquette gourde tapis-de-yoga haltère corde-à-sauter vélo casque-vélo sac-de-sport
puzzle peluche jeu-de-société cerf-volant toupie poupée figurine train-en-bois
""".split()

MATERIALS = """cuir daim lin coton laine cachemire soie velours denim toile nylon polyester
bambou chêne noyer hêtre teck rotin osier céramique grès porcelaine verre fonte inox
cuivre laiton acier aluminium marbre béton liège papier-recyclé""".split()

COLOURS = """noir blanc gris anthracite beige camel marron chocolat rouge bordeaux rose
corail orange moutarde jaune vert kaki olive sauge menthe bleu marine turquoise
indigo violet lilas argent doré ivoire écru terracotta""".split()

STYLES = """classique élégant vintage rétro moderne minimaliste scandinave bohème industriel
sport urbain chic casual outdoor premium essentiel léger compact pliable réversible
imperméable matelassé brodé tressé martelé émaillé artisanal japonais italien breton
provençal""".split()

SYLLABLES = """ka lo mi ra te su vi no bel mar cor ti an el ou is ar len dor sil vor tan
mé lé ré za po qu gri fon bla cha ver mon lu na""".split()


def _brands(rng: random.Random, count: int) -> list[str]:
    brands: set[str] = set()
    while len(brands) < count:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
        brands.add(word.capitalize())
    return sorted(brands)


def product_names(count: int, *, seed: int = 7) -> Iterator[str]:
    """`count` names, the same ones for the same seed."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    brands = _brands(rng, 400)
    for i in range(count):
        kind = rng.choice(TYPES).replace("-", " ")
        kind = kind[0].upper() + kind[1:]
        parts = [kind]
        if rng.random() < 0.6:
            parts.append(rng.choice(STYLES))
        if rng.random() < 0.7:
            parts.append("en " + rng.choice(MATERIALS).replace("-", " "))
        if rng.random() < 0.7:
            parts.append(rng.choice(COLOURS))
        if rng.random() < 0.8:
            parts.insert(0, rng.choice(brands))
        if rng.random() < 0.5:
            parts.append(f"{rng.choice('ABCDEFGHKLMNPRSTVXZ')}{rng.randint(10, 999)}")
        elif rng.random() < 0.3:
            parts.append(rng.choice(["S", "M", "L", "XL", "38", "40", "42", "1 L", "50 cl"]))
        yield " ".join(parts) if i % 97 else f"{' '.join(parts)} édition limitée"

"""Typed short answers: "yes", "nein", "skip" … mean what a button of the question means.

People type instead of tapping. A typed button label is matched by the shell against the
labels it rendered; this module knows the short answers that are not labels: the ways of
saying yes, no and skip, in every language the bot speaks (compared after ``normalize``:
case, accents and punctuation do not matter). They are understood in any of those languages,
whatever the person's own, as people mix them.
"""

from __future__ import annotations

from typing import Literal

from conversations.countries import normalize

Meaning = Literal["yes", "no", "skip"]

#: Short answers by meaning and language. Input people type, not text the bot says.
WORDS: dict[Meaning, dict[str, tuple[str, ...]]] = {
    "yes": {
        "en": ("yes", "y", "yeah", "yep", "ok", "okay", "sure"),
        "de": ("ja", "j", "jo", "jawohl", "ok", "okay", "klar", "gerne"),
        "fr": ("oui", "o", "ouais", "ok", "d'accord", "dac", "volontiers", "bien sûr"),
        "it": ("sì", "si", "s", "ok", "okay", "certo", "va bene", "esatto"),
        "es": ("sí", "si", "s", "vale", "ok", "claro", "de acuerdo", "venga"),
        "pl": ("tak", "t", "ok", "okej", "jasne", "pewnie", "dobrze", "zgoda"),
        "nl": ("ja", "j", "jawel", "jazeker", "ok", "oké", "prima", "goed", "is goed"),
        "pt-BR": ("sim", "s", "claro", "pode", "ok", "beleza", "isso", "com certeza"),
        "sv": ("ja", "japp", "jo", "visst", "absolut", "okej", "ok", "gärna"),
        "pt-PT": ("sim", "s", "claro", "pode ser", "está bem", "ok", "com certeza", "isso mesmo"),
        "cs": ("ano", "jo", "jasně", "ok", "okej", "určitě", "souhlasím", "přesně tak"),
        "da": ("ja", "jep", "ja tak", "jamen ja", "okay", "ok", "gerne", "selvfølgelig"),
        "el": ("ναι", "ναί", "εντάξει", "οκ", "σωστά", "φυσικά", "βεβαίως", "μάλιστα", "nai"),
        "hu": ("igen", "i", "aha", "persze", "oké", "rendben", "mehet"),
        "bg": ("да", "д", "добре", "ок", "окей", "разбира се", "естествено", "дадено"),
        "et": ("jah", "jaa", "jep", "ok", "okei", "sobib", "muidugi", "kindlasti", "olgu", "nõus"),
        "ro": ("da", "sigur", "desigur", "ok", "bine", "corect", "așa e"),
        "nb": (
            "ja",
            "jepp",
            "jada",
            "ja takk",
            "ok",
            "okei",
            "greit",
            "gjerne",
            "selvfølgelig",
            "javisst",
        ),
        "hr": ("da", "d", "može", "ok", "okej", "naravno", "svakako", "dogovoreno", "dakako"),
        "sl": ("da", "ja", "seveda", "velja", "v redu", "okej", "lahko", "prav"),
        "fi": ("kyllä", "joo", "juu", "jep", "ok", "okei", "selvä", "käy", "sopii"),
        "sk": ("áno", "hej", "jasné", "ok", "okej", "určite", "súhlasím", "presne tak"),
    },
    "no": {
        "en": ("no", "n", "nope", "nah", "no thanks", "no thank you"),
        "de": ("nein", "ne", "nee", "nö", "nein danke", "lieber nicht"),
        "fr": ("non", "n", "nan", "non merci", "pas besoin", "sans façon"),
        "it": ("no", "n", "no grazie", "nah", "meglio di no", "assolutamente no"),
        "es": ("no", "n", "no, gracias", "mejor no"),
        "pl": ("nie", "n", "nie dzięki", "nie, dziękuję", "raczej nie", "nie chcę"),
        "nl": ("nee", "n", "neen", "nope", "nee dank je", "liever niet", "niet"),
        "pt-BR": ("não", "n", "nem", "não obrigado", "não obrigada", "agora não", "negativo"),
        "sv": ("nej", "nä", "nej tack", "inte", "aldrig", "nix"),
        "pt-PT": (
            "não",
            "n",
            "não obrigado",
            "nada disso",
            "de modo nenhum",
            "nem pensar",
            "negativo",
        ),
        "cs": ("ne", "nee", "nechci", "nesouhlasím", "radši ne", "to ne", "v žádném případě"),
        "da": ("nej", "nej tak", "nix", "næ", "nope", "ikke nu", "slet ikke"),
        "el": ("όχι", "οχι", "όχι ευχαριστώ", "καθόλου", "ποτέ", "oxi", "ochi"),
        "hu": ("nem", "nem kérem", "inkább nem", "nem köszönöm"),
        "bg": ("не", "н", "не, благодаря", "няма нужда", "не искам", "по-добре не"),
        "et": ("ei", "ei aitäh", "ei tänan", "ei soovi", "pole vaja", "ei ole vaja"),
        "ro": ("nu", "nu mulțumesc", "nu vreau", "nicidecum", "deloc", "nu e cazul"),
        "nb": ("nei", "nei takk", "neida", "nope", "ikke nå", "slett ikke", "helst ikke"),
        "hr": ("ne", "n", "ne hvala", "nikako", "ipak ne", "neću", "radije ne"),
        "sl": ("ne", "ne hvala", "ne, hvala", "raje ne", "nikakor", "sploh ne"),
        "fi": ("ei", "en", "ei kiitos", "eipä", "ei käy", "en halua"),
        "sk": (
            "nie",
            "nie ďakujem",
            "nechcem",
            "nesúhlasím",
            "radšej nie",
            "to nie",
            "v žiadnom prípade",
        ),
    },
    "skip": {
        "en": ("skip", "none", "nothing", "no comment", "pass", "next", "nothing to add"),
        "de": ("überspringen", "weiter", "keine", "keiner", "nichts", "nichts hinzuzufügen"),
        "fr": (
            "passer",
            "je passe",
            "suivant",
            "rien",
            "aucun",
            "rien à ajouter",
            "sans commentaire",
        ),
        "it": ("salta", "avanti", "niente", "nulla", "nessuna", "niente da aggiungere", "passo"),
        "es": ("omitir", "saltar", "siguiente", "ninguno", "ninguna", "nada", "nada que añadir"),
        "pl": ("pomiń", "dalej", "brak", "nic", "żadne", "bez komentarza", "nic do dodania"),
        "nl": ("overslaan", "sla over", "volgende", "verder", "niks", "niets", "geen"),
        "pt-BR": ("pular", "pula", "nenhum", "nenhuma", "próximo", "sem comentários"),
        "sv": ("hoppa över", "skippa", "hoppa", "strunta i det", "inget", "vidare"),
        "pt-PT": ("saltar", "passar", "ignorar", "seguinte", "avançar"),
        "cs": ("přeskočit", "přeskoč", "dál", "další", "nic", "vynechat", "bez toho"),
        "da": ("spring over", "spring", "drop det", "ingenting", "intet", "ikke noget", "næste"),
        "el": ("παράλειψη", "παράλειψε", "προσπέρασε", "επόμενο", "τίποτα", "πάσο"),
        "hu": ("kihagyás", "kihagyom", "tovább", "semmi", "nincs"),
        "bg": ("пропусни", "пропускам", "нататък", "прескочи", "нищо", "нямам какво да добавя"),
        "et": (
            "jäta vahele",
            "vahele",
            "edasi",
            "järgmine",
            "ei midagi",
            "mitte midagi",
            "pole midagi",
        ),
        "ro": ("omite", "sari peste", "treci peste", "mai departe", "nimic", "lasă"),
        "nb": (
            "hopp over",
            "hopp",
            "dropp det",
            "ingenting",
            "ikke noe",
            "ingen",
            "neste",
            "videre",
        ),
        "hr": (
            "preskoči",
            "dalje",
            "ništa",
            "nema",
            "bez komentara",
            "nemam ništa za dodati",
            "sljedeće",
        ),
        "sl": ("preskoči", "preskočim", "naprej", "nič", "nimam", "brez"),
        "fi": (
            "ohita",
            "ohitan",
            "seuraava",
            "eteenpäin",
            "ei mitään",
            "ei lisättävää",
            "ei muuta",
        ),
        "sk": ("preskočiť", "preskoč", "ďalej", "ďalší", "nič", "vynechať", "bez toho"),
    },
}

_MEANINGS: dict[str, Meaning] = {
    normalize(word): meaning
    for meaning, languages in WORDS.items()
    for words in languages.values()
    for word in words
}

#: The button values each meaning can stand for, best first: at the own-words question "no"
#: means "no own words" (skip); at a yes/no question "skip" is not an answer.
VALUES: dict[Meaning, tuple[str, ...]] = {
    "yes": ("yes",),
    "no": ("no", "skip"),
    "skip": ("skip",),
}


def meaning(text: str) -> Meaning | None:
    """What a typed short answer means, or None if it is not one."""
    return _MEANINGS.get(normalize(text))


def is_one_word(text: str) -> bool:
    """A single word, number or sign: too little to be what a person means as their own text."""
    return len(text.split()) <= 1

"""A character's gender from the script's own words; None when the text does not tell.

Evidence, strongest first, each a weighted vote for "female" or "male":

* the name itself is a gendered word or title: GRANDFATHER, THE OLD WOMAN, MRS. HALE (5);
* a description next to a mention: "Elias, a young man", "Mara is an old woman", "the
  widow Rosa", "grand-père Louis", or in brackets after a mention "Mara (60s, a woman)" (3);
* the character's own delivery notes: "(to herself)" (3);
* the first pronoun after each mention, in the same or the next sentence (he/she, il/elle,
  er/sie, él/ella, lui/lei, ele/ela, and possessives where they mark the owner) (1 each);
* a common first name of the script's language (a small table below, ~20 a gender) (2);
  in Spanish, Italian and Portuguese a name not in the table ending in -a / -o (1);
* a person introduced by the narration just before the character first speaks: "A young
  man stood on the step." then ELIAS: ... (1.5).

The side with more weight wins; a tie or no evidence is None (unknown), and casting then
falls back to alternation. Word lists cover en, fr, de, es, it and pt; other languages get
the English lists (names and titles travel) and otherwise None. Pure code.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

Gender = str  # "female" / "male"

# Gendered nouns and titles, accents stripped, lower case.
_NOUNS: dict[str, tuple[str, str]] = {  # language -> (female words, male words)
    "en": ("woman women girl mother mom mum mama grandmother grandma granny daughter sister "
           "aunt wife queen princess lady madam mrs ms miss nun niece widow duchess empress "
           "actress waitress heroine maid bride matron hostess stewardess goddess witch",
           "man men boy father dad papa grandfather grandpa son brother uncle husband king "
           "prince lord sir mr gentleman monk priest nephew fisherman widower lad fellow guy "
           "duke emperor actor waiter hero groom host steward god wizard"),
    "fr": ("femme fille mere maman grand-mere soeur tante epouse reine princesse dame madame "
           "mme mademoiselle mlle religieuse niece veuve gardienne vieille paysanne boulangere "
           "institutrice infirmiere",
           "homme garcon pere papa grand-pere fils frere oncle mari epoux roi prince monsieur "
           "seigneur moine pretre neveu pecheur veuf gardien vieillard cure boulanger paysan "
           "instituteur infirmier"),
    "de": ("frau madchen mutter mama grossmutter oma tochter schwester tante ehefrau konigin "
           "prinzessin dame nonne nichte witwe jungfrau fischerin warterin bauerin lehrerin",
           "mann junge vater papa grossvater opa sohn bruder onkel ehemann konig prinz herr "
           "monch priester neffe fischer witwer greis warter bursche knabe bauer lehrer"),
    "es": ("mujer chica nina muchacha madre mama abuela hija hermana tia esposa reina "
           "princesa senora senorita dona monja sobrina viuda anciana vieja pescadora",
           "hombre chico nino muchacho padre papa abuelo hijo hermano tio marido esposo rey "
           "principe senor don monje sacerdote sobrino pescador viudo anciano viejo"),
    "it": ("donna ragazza bambina madre mamma nonna figlia sorella zia moglie regina "
           "principessa signora signorina suora vedova vecchia anziana pescatrice",
           "uomo ragazzo bambino padre papa nonno figlio fratello zio marito re principe "
           "signore signor monaco prete vedovo vecchio anziano pescatore"),
    "pt": ("mulher moca menina garota mae filha irma tia esposa rainha princesa senhora "
           "dona freira sobrinha viuva velha pescadora",
           "homem rapaz menino garoto pai filho irmao tio marido rei principe senhor dom "
           "monge padre sobrinho pescador viuvo velho moco"),
}

# Pronouns that name one person's gender (ambiguous ones such as French "lui" are left out).
_PRONOUNS: dict[str, tuple[str, str]] = {
    "en": ("she her hers herself", "he him his himself"),
    "fr": ("elle elle-meme", "il lui-meme"),
    "de": ("sie ihre ihrer ihren ihrem", "er ihn ihm sein seine seiner seinen seinem"),
    "es": ("ella", "el_"),  # "el_" is "él" (see _plain), not the article "el"
    "it": ("lei ella", "lui egli"),
    "pt": ("ela dela nela", "ele dele nele"),
}

# Common first names, a modest table per language (accents stripped); more can be added.
_NAMES: dict[str, tuple[str, str]] = {
    "en": ("mary anna emma sarah mara elena rose grace alice claire julia lucy clara helen "
           "kate sophie laura margaret jane ella lily olivia eva maria ruth martha",
           "john james tom thomas elias peter paul david michael william jack henry george "
           "samuel daniel robert arthur edward oliver noah leo luke mark adam simon"),
    "fr": ("marie jeanne sophie claire louise julie elise amelie chloe lea manon isabelle anne "
           "margot celine helene juliette lucie nathalie simone",
           "jean pierre paul louis jacques luc antoine etienne henri marcel julien hugo theo "
           "nicolas francois michel olivier philippe thomas mathieu"),
    "de": ("anna greta lena hanna marie sophie clara lisa katharina ursula ingrid heidi "
           "frieda gisela sabine petra johanna elke monika emma",
           "hans karl fritz peter klaus jurgen wolfgang stefan lukas felix max jonas paul otto "
           "heinrich friedrich dieter gunter matthias tobias"),
    "es": ("maria lucia carmen isabel ana elena sofia rosa pilar dolores marta ines teresa "
           "beatriz lola paula laura clara julia mercedes",
           "juan jose carlos miguel pedro luis antonio javier pablo diego manuel francisco "
           "alejandro jorge andres fernando rafael sergio mateo tomas"),
    "it": ("giulia francesca chiara sofia maria anna lucia elena giovanna rosa paola laura "
           "valentina alessandra martina silvia caterina teresa beatrice",
           "marco giovanni giuseppe luca andrea francesco antonio matteo lorenzo paolo pietro "
           "alessandro stefano roberto carlo enzo nicola simone mattia"),
    "pt": ("maria ana joana beatriz ines mariana carolina sofia rita teresa luisa fernanda "
           "juliana camila gabriela helena clara",
           "joao jose pedro paulo tiago miguel rui luis antonio carlos manuel francisco rafael "
           "gustavo lucas bruno ricardo diogo"),
}

_ENDINGS = {"es", "it", "pt"}  # languages where -a / -o usually mark a given name's gender
_COPULAS = {"is", "was", "est", "etait", "ist", "war", "es", "era", "e", "eh", "foi"}
_WORD = re.compile(r"\w+(?:[-']\w+)*")
_SENTENCE = re.compile(r"(?<=[.!?…])\s+")

FEMALE, MALE = "female", "male"


def _plain(text: str) -> str:
    """Lower case without accents: "Grand-Père" -> "grand-pere"."""
    text = re.sub(r"(?<!\w)él(?!\w)", "el_", text.lower())  # the pronoun, not the article
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ß", "ss")


def _table(tables: dict[str, tuple[str, str]], language: str) -> dict[str, Gender]:
    female, male = tables.get(language, tables["en"])
    return {**{w: MALE for w in male.split()}, **{w: FEMALE for w in female.split()}}


class _Lexicon:
    def __init__(self, language: str) -> None:
        language = language.lower().split("-")[0]
        self.language = language
        self.nouns = {**_table(_NOUNS, "en"), **_table(_NOUNS, language)}
        self.pronouns = _table(_PRONOUNS, language)
        self.names = _table(_NAMES, language)
        others: dict[str, set[Gender]] = {}
        for lang in _NAMES:
            for word, sex in _table(_NAMES, lang).items():
                others.setdefault(word, set()).add(sex)
        # A name the script's language does not list counts when every table agrees on it.
        self.any_names = {w: s.pop() for w, s in others.items() if len(s) == 1}


def infer_genders(names: Iterable[str], passages: list[tuple[str, str, str | None]],
                  language: str) -> dict[str, Gender | None]:
    """Each name's gender. ``passages``: the script in order as (speaker, text, delivery
    note) with the narration's speaker being anything not in ``names``."""
    names = list(names)
    lexicon = _Lexicon(language)
    mentions = {name: re.compile(rf"(?<!\w){re.escape(_plain(name))}(?!\w)") for name in names}
    narration = [_plain(text) for speaker, text, _ in passages if speaker not in mentions]
    sentences = [s for text in narration for s in _SENTENCE.split(text) if s]
    result = {}
    for name in names:
        votes: list[tuple[Gender, float]] = []
        votes += _name_words(name, lexicon)
        votes += _near_mentions(name, mentions, sentences, lexicon)
        votes += _own_notes(name, passages, lexicon)
        votes += _introduction(name, mentions, passages, lexicon)
        female = sum(w for sex, w in votes if sex == FEMALE)
        male = sum(w for sex, w in votes if sex == MALE)
        result[name] = FEMALE if female > male else MALE if male > female else None
    return result


def _name_words(name: str, lexicon: _Lexicon) -> list[tuple[Gender, float]]:
    words = _WORD.findall(_plain(name))
    for word in words:  # GRANDFATHER, THE OLD WOMAN, MRS. HALE
        if word in lexicon.nouns:
            return [(lexicon.nouns[word], 5.0)]
    for word in words:  # the given name, usually first
        sex = lexicon.names.get(word) or lexicon.any_names.get(word)
        if sex:
            return [(sex, 2.0)]
    if words and lexicon.language in _ENDINGS and len(words[0]) > 2:
        ending = {"a": FEMALE, "o": MALE}.get(words[0][-1])
        return [(ending, 1.0)] if ending else []
    return []


def _near_mentions(name: str, mentions: dict, sentences: list[str],
                   lexicon: _Lexicon) -> list[tuple[Gender, float]]:
    votes = []
    pattern = mentions[name]
    others = [p for n, p in mentions.items() if n != name]
    for index, sentence in enumerate(sentences):
        for match in pattern.finditer(sentence):
            before = _WORD.findall(sentence[:match.start()])[-2:]
            after = sentence[match.end():]
            votes += [(lexicon.nouns[w], 3.0) for w in before[-1:] if w in lexicon.nouns]
            votes += _described(after, lexicon)
            following = after + " " + (sentences[index + 1] if index + 1 < len(sentences)
                                       else "")
            stop = min((m.start() for p in others for m in [p.search(following)] if m),
                       default=len(following))
            stop = min(stop, _next_mention(pattern, following))
            pronoun = next((w for w in _WORD.findall(following[:stop])
                            if w in lexicon.pronouns), None)
            votes += [(lexicon.pronouns[pronoun], 1.0)] if pronoun else []
    return votes


def _next_mention(pattern: re.Pattern, text: str) -> int:
    match = pattern.search(text)
    return match.start() if match else len(text)


def _described(after: str, lexicon: _Lexicon) -> list[tuple[Gender, float]]:
    """ "…, a young man", " is an old woman", " (60s, a woman)": a gendered noun within a
    few words of an apposition, a copula or a bracket right after the name."""
    head = after.lstrip()
    bracket: list[str] = []
    if head.startswith("("):  # "Mara (60s), a widow": the bracket, then what follows it
        close = head.find(")")
        bracket = _WORD.findall(head[1:close] if close > 0 else head[1:60])
        head = head[close + 1:].lstrip() if close > 0 else ""
    if head.startswith(","):
        words = _WORD.findall(re.split(r"[,;.:!?]", head[1:], maxsplit=1)[0])[:5]
    else:
        words = _WORD.findall(re.split(r"[,;.:!?]", head, maxsplit=1)[0])[:6]
        if not words or words[0] not in _COPULAS:
            words = []
    sex = next((lexicon.nouns[w] for w in bracket + words if w in lexicon.nouns), None)
    return [(sex, 3.0)] if sex else []


def _own_notes(name: str, passages: list[tuple[str, str, str | None]],
               lexicon: _Lexicon) -> list[tuple[Gender, float]]:
    votes = []
    for speaker, _, note in passages:
        if speaker == name and note:
            votes += [(lexicon.pronouns[w], 3.0) for w in _WORD.findall(_plain(note))
                      if w in lexicon.pronouns and w.endswith(("self", "meme"))]
            votes += [(lexicon.nouns[w], 3.0) for w in _WORD.findall(_plain(note))
                      if w in lexicon.nouns]
    return votes


def _introduction(name: str, mentions: dict, passages: list[tuple[str, str, str | None]],
                  lexicon: _Lexicon) -> list[tuple[Gender, float]]:
    """The narration just before the character's first line, when it brings in one person
    ("A young man stood on the step.") and names nobody."""
    for index, (speaker, _, _) in enumerate(passages):
        if speaker != name:
            continue
        if index == 0 or passages[index - 1][0] in mentions:
            return []
        text = _plain(passages[index - 1][1])
        if any(p.search(text) for p in mentions.values()):
            return []
        last = _SENTENCE.split(text)[-1]
        found = {lexicon.nouns[w] for w in _WORD.findall(last) if w in lexicon.nouns}
        return [(found.pop(), 1.5)] if len(found) == 1 else []
    return []

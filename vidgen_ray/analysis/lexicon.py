"""Mood and ambience words, stop words, negators and "it is over" phrases per language.

Each table entry is a space-separated string of words. Words are compared after folding
case and accents ("Tempête" = "tempete"), so write them as the language does. A word
ending in ``*`` is a stem: it matches every word that starts with it (``pleur*`` → pleure,
pleurait, pleurs). A plain word matches itself and its simple inflections for the language
(see ``SUFFIXES``). ``=N`` after a word weighs it N times (a clear cue such as "calm" or
"funeral" beats an incidental one such as "storm" in "the storm had passed"); ``=0.5``
makes a word that is often used loosely ("roaring", "rise") count half.

Order matters: when two entries score the same, the earlier one wins.
"""

from __future__ import annotations

LANGUAGES = ("en", "fr", "de", "es", "it", "pt")

# Endings a plain word may take; English has its own rules in keywords._english_forms.
SUFFIXES: dict[str, tuple[str, ...]] = {
    "fr": ("", "s", "x"),
    "de": ("", "e", "en", "n", "s", "es", "er", "ern", "em"),
    "es": ("", "s", "es"),
    "it": ("", "i", "e", "a", "o"),
    "pt": ("", "s", "es"),
}

MOODS: dict[str, dict[str, str]] = {
    "en": {
        "tense": "fear=2 afraid=2 terror=2 terrified=2 panic=2 scream danger creep tremble "
                 "chase threat gun blood pound* siren wail* flee fled hide hunt*",
        "mysterious": "dark darkness shadow mist fog secret strange whisper mystery ghost "
                      "unknown eerie flicker*",
        "joyful": "laugh laughter joy sun=0.5 sunny sunshine celebrate smile happy dance "
                  "delight cheer splash*",
        "sad": "cry tears=2 grief=2 loss lost mourn weep wept sorrow funeral=2 alone goodbye "
               "grave",
        "epic": "battle=2 storm=0.5 roar=0.5 rise=0.5 risen thunder=0.5 war army=2 charge "
                "triumph hero=2 clash sword soldier",
        "calm": "quiet gentle=1.5 peace peaceful=1.5 calm=2 soft serene=2 breeze hush slow "
                "still tranquil=2 asleep sleep* drift*",
    },
    "fr": {
        "tense": "peur=2 effray* terrifi* terreur=2 panique=2 cri crier hurl* danger menace "
                 "poursui* pistolet fusil sang tremble* fuir fuy*",
        "mysterious": "sombre obscur* ombre brouillard brume secret etrange murmur* chuchot* "
                      "mystere mysterieu* fantome inconnu* tenebre*",
        "joyful": "rire rit riai* joie=2 joyeu* soleil=0.5 fete celebr* sourire sourit "
                  "souriai* heureu* danse* dansai* dansant chant*",
        "sad": "pleur* larme* chagrin=2 deuil=2 perdu* perte triste* tristesse=2 seul* adieu "
               "tombe cimetiere enterrement=2",
        "epic": "bataille=2 tempete=0.5 rugi* armee=2 guerre charge triomph* heros=2 "
                "victoire=2 epee soldat* affront*",
        "calm": "calme=2 doux douce* doucement paix=2 paisible=2 tranquil* serein* silence* "
                "lent* repos* apais*",
    },
    "de": {
        "tense": "angst=2 furcht=2 panik=2 schrei* gefahr bedroh* verfolg* waffe pistole "
                 "blut zitter* flieh* flucht",
        "mysterious": "dunkel* schatten nebel geheimnis* seltsam* flust* gespenst* geist "
                      "unbekannt* unheimlich*",
        "joyful": "lach* freude=2 freu* froh* frohlich* sonne=0.5 feier* fest lachel* "
                  "glucklich* tanz*",
        "sad": "wein* trane* trauer=2 trauer* verlust verlor* allein* abschied* verabschied* "
               "grab friedhof=2 beerdigung=2 traurig=2",
        "epic": "schlacht=2 sturm=0.5 brull* krieg heer=2 armee=2 triumph* held=2 helden* "
                "sieg=2 schwert krieger",
        "calm": "ruhig=2 ruhe=2 sanft* friedlich=2 frieden still* leise gelassen* langsam*",
    },
    "es": {
        "tense": "miedo=2 terror=2 panico=2 grit* peligro=2 amenaz* persegu* persigu* "
                 "pistola sangre tembl* huir huy*",
        "mysterious": "oscur* sombra niebla bruma secreto extran* susurr* misterio* fantasma "
                      "desconocid*",
        "joyful": "rie rien reia reian riendo reir alegria=2 alegre feliz felices sol=0.5 "
                  "fiesta celebr* sonri* bail* cant*",
        "sad": "llor* lagrima* pena dolor=2 duelo=2 perdid* perdida triste* tristeza=2 solo sola "
               "adios tumba cementerio=2 funeral=2",
        "epic": "batalla=2 tormenta=0.5 rug* guerra ejercito=2 carga triunf* heroe=2 "
                "victoria=2 espada guerrero* soldado*",
        "calm": "tranquil* calma=2 suave* paz=2 pacific* seren* silencio* lent* descans*",
    },
    "it": {
        "tense": "paura=2 terrore=2 panico=2 url* grid* pericolo=2 minacci* insegu* pistola "
                 "sangue trem* fugg*",
        "mysterious": "oscur* buio ombra nebbia segret* strano strana strani sussurr* "
                      "mister* fantasma sconosciut*",
        "joyful": "rid* ris* gioia=2 gioios* felic* sole=0.5 festa festegg* sorrid* "
                  "ball* cant*",
        "sad": "piang* pians* lacrim* dolore=2 lutto=2 perdut* perdita trist* tristezza=2 "
               "solo sola addio tomba cimitero=2 funerale=2",
        "epic": "battaglia=2 tempesta=0.5 rugg* guerra esercito=2 armata=2 trionf* eroe=2 "
                "vittoria=2 spada guerrier* soldat*",
        "calm": "calmo=2 calma=2 dolce* pace=2 tranquill* seren* silenzi* lent* ripos*",
    },
    "pt": {
        "tense": "medo=2 terror=2 panico=2 grit* perigo=2 ameac* persegu* arma sangue trem* "
                 "fugi* foge*",
        "mysterious": "escur* sombra nevoa neblina segredo* estranh* sussurr* misteri* "
                      "fantasma desconhecid*",
        "joyful": "ri riam rindo alegria=2 alegre feliz felizes sol=0.5 festa celebr* "
                  "sorri* danc* cant*",
        "sad": "chor* lagrima* dor=2 luto=2 perdid* perda triste* tristeza=2 saudade=2 "
               "sozinh* adeus tumulo cemiterio=2 funeral=2",
        "epic": "batalha=2 tempestade=0.5 rug* guerra exercito=2 triunf* heroi=2 vitoria=2 "
                "espada guerreiro* soldado*",
        "calm": "calmo=2 calma=2 suave* paz=2 tranquil* seren* silencio* devagar lent* "
                "descans*",
    },
}

AMBIENCES: dict[str, dict[str, str]] = {
    "en": {
        "rain": "rain=1.5 storm drizzle downpour thunder shower puddle umbrella",
        "ocean": "wave sea shore harbor harbour ocean beach tide surf gull",
        "forest": "forest woods tree trees jungle grove leaves",
        "city": "street traffic city car cars downtown avenue subway siren",
        "night": "night stars midnight moon moonlight owl cricket",
        "fire": "fire fireplace campfire flame hearth embers bonfire",
        "crowd": "crowd=1.5 market=2 cheering audience festival bazaar party stall",
        "wind": "wind gale gust windy howl",
    },
    "fr": {
        "rain": "pluie=1.5 pleuv* pleut orage averse tonnerre parapluie",
        "ocean": "mer=1.5 vague plage rivage ocean maree mouette",
        "forest": "foret bois arbre feuill* jungle",
        "city": "rue=1.5 ville voiture circulation klaxon* avenue boulevard metro",
        "night": "nuit=1.5 etoile minuit lune chouette hibou",
        "fire": "feu cheminee flamme braise foyer",
        "crowd": "foule=2 marche=2 fete public festival",
        "wind": "vent=1.5 rafale bourrasque",
    },
    "de": {
        "rain": "regen=1.5 regne* regnet* gewitter donner schauer pfutze",
        "ocean": "meer=1.5 welle strand hafen kuste ozean flut mowe",
        "forest": "wald=1.5 walder* baum baume* blatter dschungel",
        "city": "strasse=1.5 stadt auto autos verkehr hup* allee",
        "night": "nacht=1.5 stern* mitternacht mond eule",
        "fire": "feuer kamin flamme glut lagerfeuer",
        "crowd": "menge=2 menschenmenge=2 markt=2 marktplatz=2 publikum jahrmarkt",
        "wind": "wind=1.5 windes heul*",
    },
    "es": {
        "rain": "lluvia=1.5 llov* llueve tormenta aguacero trueno paraguas",
        "ocean": "mar=1.5 ola playa puerto orilla oceano marea gaviota",
        "forest": "bosque=1.5 arbol arboles selva hoja",
        "city": "calle=1.5 ciudad coche trafico avenida metro pitaba* pitando claxon*",
        "night": "noche=1.5 estrella medianoche luna buho",
        "fire": "fuego chimenea llamas brasa hoguera",
        "crowd": "multitud=2 gentio mercado=2 publico festival feria",
        "wind": "viento=1.5 rafaga vendaval",
    },
    "it": {
        "rain": "pioggia=1.5 piov* temporale tuono acquazzone ombrell*",
        "ocean": "mare=1.5 onda onde spiaggia porto riva oceano marea gabbian*",
        "forest": "bosco=1.5 boschi foresta albero alberi foglie giungla",
        "city": "strada=1.5 strade citta macchina macchine traffico clacson viale",
        "night": "notte=1.5 stelle mezzanotte luna gufo civetta",
        "fire": "fuoco camino fiamma fiamme brace falo",
        "crowd": "folla=2 mercato=2 piazza=1.5 pubblico festival",
        "wind": "vento=1.5 raffica bufera",
    },
    "pt": {
        "rain": "chuva=1.5 chov* tempestade trovao aguaceiro guarda-chuva",
        "ocean": "mar=1.5 onda praia porto areia oceano mare gaivota",
        "forest": "floresta=1.5 bosque mata arvore arvores folha selva",
        "city": "rua=1.5 cidade carro carros transito buzin* avenida",
        "night": "noite=1.5 estrela estrelas meia-noite lua coruja",
        "fire": "fogo lareira chama brasa fogueira",
        "crowd": "multidao=2 mercado=2 publico festival feira",
        "wind": "vento=1.5 rajada vendaval uiv*",
    },
}

# Frequent short words, to tell the languages apart when a script does not say its own.
STOP_WORDS: dict[str, str] = {
    "en": "the and of to is was he she it with his her they on at by that this from were",
    "fr": "le les et des du un une est il elle dans sur pour pas que qui au aux etait avec",
    "de": "der die das und ist ein eine nicht mit auf dem den sich er sie es war im zu",
    "es": "el los las y en un una es con por que del se su al era muy pero como sobre sus",
    "it": "il lo gli le e di un una che con per del della sono era nel nella si non sul alla dal i",
    "pt": "o os as e de um uma que com por do da dos das no na era em ao nao",
}

# A keyword right after one of these (within three words) does not count: "no rain".
NEGATORS: dict[str, str] = {
    "en": "no not without never nor",
    "fr": "sans pas plus aucun aucune ni jamais",
    "de": "kein keine keinen keiner ohne nicht nie",
    "es": "sin no ningun ninguna nunca ni",
    "it": "senza non nessun nessuna mai ne",
    "pt": "sem nao nenhum nenhuma nunca nem",
}

# A clause saying its weather or event is over: none of its keywords count. Regular
# expressions over folded (lower-case, unaccented) text.
OVER: dict[str, str] = {
    "en": r"\b(?:had|has|have) (?:passed|ended|stopped|gone|died|cleared|faded|blown over)\b"
          r"|\b(?:was|were|is|are) (?:over|gone|past)\b|\bno longer\b",
    "fr": r"\b(?:etait|est|etaient|sont) (?:passee?s?|finie?s?|terminee?s?)\b"
          r"|\b(?:avait|a) cesse\b",
    "de": r"\bvorbei\b|\bvoruber\b|\baufgehort\b",
    "es": r"\b(?:habia|ha|habian|han) (?:pasado|terminado|cesado|acabado)\b|\bya paso\b",
    "it": r"\b(?:era|e|erano) (?:passat[aoie]|finit[aoie]|cessat[aoie])\b",
    "pt": r"\b(?:tinha|havia|tinham|haviam) (?:passado|terminado|acabado)\b",
}

# Clauses end at punctuation and at these words ("the storm had passed and the sea was
# calm": the sea still counts).
CONJUNCTIONS: dict[str, str] = {
    "en": "and but while",
    "fr": "et mais",
    "de": "und aber",
    "es": "y pero",
    "it": "e ma",
    "pt": "e mas",
}

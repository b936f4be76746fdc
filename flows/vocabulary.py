"""Word lists the collector understands: technologies, levels, types, numbers, phrasings.

Pure data. `collector_nlu` turns these into word-bounded regular expressions; keeping the
tables here keeps that module about logic. Regex fragments are written for `re.IGNORECASE`
and are always wrapped in `\\b…\\b` by the code that uses them.
"""

from __future__ import annotations

import re

# --- what people say instead of an answer ------------------------------------------------

REPEAT_PHRASES: tuple[str, ...] = (
    r"\brepeat\b",
    r"\bsay (?:that|it|this|the question) again\b",
    r"\bcome again\b",
    r"\bpardon\b",
    r"\bwhat was (?:the|that|your) question\b",
    r"\bwhat did you (?:say|ask)\b",
    r"\b(?:didn'?t|did not|couldn'?t|could not) (?:hear|catch|get) (?:that|you|it|the question)",
    r"\bone more time\b",
    r"^(?:sorry|what|huh|excuse me|again|eh)\W*$",
)
CLARIFY_PHRASES: tuple[str, ...] = (
    r"\bwhat do you mean\b",
    r"\bwhat does (?:that|this|it|\w+) mean\b",
    r"\b(?:don'?t|do not|didn'?t) (?:understand|get it|follow)\b",
    r"\bwhat(?:'s| is) the difference\b",
    r"\bdifference between\b",
    r"\bexplain\b",
    r"\bclarify\b",
    r"\bconfus(?:ed|ing)\b",
    r"^what(?:'s| is) that\W*$",
    r"\bwhat(?:'s| is| are) (?:an? |the )?(?:tech ?stack|stack|level|interview type|type|role)\b",
)
EXAMPLES_PHRASES: tuple[str, ...] = (
    r"\b(?:give|show|tell|list|offer)\b.{0,20}\b(?:examples?|options|choices|ideas|suggestions)\b",
    r"\b(?:some|any|an|few|more)\s+(?:examples?|options|ideas|suggestions)\b",
    r"^(?:examples?|options|suggestions|for example|for instance|e\.?g\.?|such as|like)\W*$",
    r"\blike what\b",
    r"\bsuch as what\b",
    r"\bwhat can i (?:say|choose|pick)\b",
    r"\bwhat (?:are|would be) (?:the |my |some )?(?:options|choices|possibilities)\b",
    r"\bwhat (?:options|choices) (?:are there|do i have)\b",
)
_FILLER = r"(?:(?:um+|uh+|hmm+|erm|well|honestly|so)\W+)*"
# a whole message that only says "I don't know": answered with examples
UNSURE_PHRASES: tuple[str, ...] = (
    rf"^{_FILLER}(?:i\s+)?(?:really\s+|honestly\s+)?(?:don'?t|do not|dunno)(?:\s+know)?"
    r"(?:\s+yet)?\W*$",
    rf"^{_FILLER}(?:i'?m\s+|i am\s+)?(?:not sure|unsure)(?:\s+yet)?\W*$",
    rf"^{_FILLER}(?:i have\s+)?no (?:idea|clue)\W*$",
)
HOLD_PHRASES: tuple[str, ...] = (
    r"\b(?:give|need) (?:me )?(?:a|one|another) (?:minute|moment|sec|second|min|bit)\b",
    r"\b(?:hold|hang) on\b",
    r"\b(?:one|just a|wait a) (?:sec|second|moment|minute|min)\b",
    r"^wait\W*$",
    r"\bnot (?:yet|right now)\b",
    r"\bbe right back\b",
    r"\bbrb\b",
)

# --- readiness ----------------------------------------------------------------------------

# positive answers that contain a negative word; checked first
READY_IDIOMS: tuple[str, ...] = (
    r"\bno (?:problem|worries)\b",
    r"\bnot a problem\b",
    r"\bwhy not\b",
    r"\b(?:can'?t|cannot) wait\b",
    r"\b(?:don'?t|do not) mind\b",
    r"\bwhy (?:don'?t|not) we\b",
    r"\bnot bad\b",
)
NOT_READY_PHRASES: tuple[str, ...] = (
    r"\b(?:no|nope|nah|not|never|later|wait|busy|cannot|dont|cant|isnt|arent)\b",
    r"n't\b",
)
# fmt: off
READY_WORDS: tuple[str, ...] = (
    "yes", "yeah", "yea", "yep", "yup", "ya", "sure", "ready", "ok", "okay", "alright",
    "all right", "absolutely", "definitely", "certainly", "of course", "go ahead", "go for it",
    r"let'?s (?:go|do (?:it|this)|start|begin|get started)", "start", "begin", "now",
    "sounds good", "fire away", "shoot", "i am", r"i'?m in", "good to go", "bring it on",
    "totally", "indeed", "perfect", "great", "cool", "fine", "go",
)
# fmt: on

# --- corrections --------------------------------------------------------------------------

CORRECTION_WORDS = r"sorry|oops|whoops|my bad|scratch that|actually|i\s+meant|i\s+mean|wait"
CHANGE_VERBS = r"change|switch|update|make|set|correct|fix|put"
LINK_WORDS = r"to|into|as|be|is|should\s+be|would\s+be"
# how a correction names the field it changes ("change the level to …")
FIELD_WORDS: dict[str, str] = {
    "role": r"role|position|job title|job|title",
    "interview_type": r"interview type|type of interview|interview style|type",
    "level": r"level|seniority",
    "techstack": r"tech\s*stack|techstack|(?<!full )(?<!full-)stack|technologies|languages",
    "amount": r"number of questions|amount of questions|question count|number|amount",
}

# --- technologies -------------------------------------------------------------------------

# canonical name -> other ways people say or spell it (the canonical name matches itself)
TECHNOLOGIES: dict[str, tuple[str, ...]] = {
    "Python": ("py", "python3"),
    "JavaScript": ("js", "ecmascript", "vanilla js", "es6"),
    "TypeScript": ("ts",),
    "Node.js": ("node", "node dot js"),
    "React": ("reactjs", "react dot js"),
    "React Native": (),
    "Next.js": ("next", "next dot js"),
    "Vue.js": ("vue", "vue dot js"),
    "Nuxt": ("nuxtjs",),
    "Angular": ("angularjs",),
    "Svelte": (),
    "Express": ("expressjs",),
    "NestJS": ("nest",),
    "Django": (),
    "Flask": (),
    "FastAPI": ("fast api",),
    "Spring Boot": (),
    "Spring": (),
    "Java": (),
    "Kotlin": (),
    "Swift": (),
    "SwiftUI": (),
    "Objective-C": ("objc",),
    "Scala": (),
    "Go": ("golang",),
    "Rust": (),
    "C": (),
    "C++": ("cpp", "c plus plus"),
    "C#": ("c sharp", "csharp"),
    "F#": ("f sharp",),
    ".NET": ("dotnet", "dot net", "net core", ".net core"),
    "ASP.NET": ("asp dot net",),
    "Ruby": (),
    "Ruby on Rails": ("rails", "ror"),
    "PHP": (),
    "Laravel": (),
    "Symfony": (),
    "Perl": (),
    "Elixir": (),
    "Erlang": (),
    "Haskell": (),
    "Clojure": (),
    "Dart": (),
    "Flutter": (),
    "Lua": (),
    "R": (),
    "MATLAB": (),
    "Julia": (),
    "SQL": (),
    "PostgreSQL": ("postgres", "postgre", "psql", "postgress"),
    "MySQL": ("my sql",),
    "SQLite": (),
    "SQL Server": ("mssql", "ms sql"),
    "Oracle": (),
    "PL/SQL": (),
    "MongoDB": ("mongo",),
    "Redis": (),
    "Cassandra": (),
    "DynamoDB": ("dynamo",),
    "Elasticsearch": ("elastic",),
    "Kafka": ("apache kafka",),
    "RabbitMQ": ("rabbit",),
    "GraphQL": (),
    "REST": ("rest api", "rest apis", "restful", "restful apis"),
    "gRPC": (),
    "Docker": (),
    "Kubernetes": ("k8s", "kube"),
    "Terraform": (),
    "Ansible": (),
    "Jenkins": (),
    "GitHub Actions": (),
    "Git": (),
    "Linux": (),
    "Bash": ("shell",),
    "CI/CD": (),
    "AWS": ("amazon web services",),
    "Azure": ("microsoft azure",),
    "GCP": ("google cloud", "google cloud platform"),
    "Firebase": (),
    "Supabase": (),
    "TensorFlow": (),
    "PyTorch": ("torch",),
    "Keras": (),
    "scikit-learn": ("sklearn",),
    "pandas": (),
    "NumPy": (),
    "Spark": ("apache spark",),
    "PySpark": (),
    "Hadoop": (),
    "Airflow": ("apache airflow",),
    "Snowflake": (),
    "dbt": (),
    "Tableau": (),
    "Power BI": (),
    "Excel": (),
    "HTML": ("html5",),
    "CSS": ("css3",),
    "Sass": ("scss",),
    "Tailwind CSS": ("tailwind",),
    "Bootstrap": (),
    "jQuery": (),
    "Redux": (),
    "Webpack": (),
    "Vite": (),
    "Jest": (),
    "Cypress": (),
    "Selenium": (),
    "Playwright": (),
    "pytest": (),
    "JUnit": (),
    "Unity": (),
    "Unreal Engine": ("unreal",),
    "Solidity": (),
    "Machine Learning": ("ml",),
    "Deep Learning": (),
    "LangChain": (),
    "Microservices": (),
    "Nginx": (),
    "Figma": (),
}

# Spoken or typed forms rewritten before a tech list is split, so the splitter keeps them
# whole ("c plus plus" would otherwise split on "plus", "CI/CD" on "/").
TECH_REWRITES: tuple[tuple[str, str], ...] = (
    (r"c\s*plus\s*plus", "c++"),
    (r"c\s+sharp", "c#"),
    (r"f\s+sharp", "f#"),
    (r"(?:asp\s*)dot\s+net", "asp.net"),
    (r"dot\s+net", ".net"),
    (r"ci\s*/\s*cd", "ci-cd"),
    (r"pl\s*/\s*sql", "pl-sql"),
    (r"(\w+)\s+dot\s+js", r"\1.js"),
)

# Phrases that carry no technology, removed anywhere in a tech-stack answer.
TECH_FILLERS: tuple[str, ...] = (
    r"(?:i|we)(?:'m|\s+am|'re|\s+are)?\s+(?:(?:also|mostly|mainly|usually|primarily|typically"
    r"|normally|really|currently|sometimes|generally|often)\s+)*(?:use|using|used|work\s+with"
    r"|working\s+with|worked\s+with|work\s+in|working\s+in|code\s+in|coding\s+in|program\s+in"
    r"|know|like|do|write|build\s+with|have\s+used|familiar\s+with|comfortable\s+with"
    r"|experienced\s+with|good\s+with|into|focus\s+on|focusing\s+on)",
    r"i'?d\s+(?:like\s+to\s+)?(?:say|focus\s+on|go\s+with)",
    r"let'?s\s+(?:do|go\s+with|focus\s+on|say)",
    r"(?:my|our|the)\s+(?:main\s+|current\s+|usual\s+)?(?:tech\s*)?stack\s+(?:is|would\s+be)",
    r"(?:things|stuff|technologies|tools)\s+like",
    r"such\s+as",
    r"(?:it'?s|it\s+is)",
)

# What speech-to-text writes for a spoken "and" between two technologies ("React in
# Kubernetes", "Docker n Kubernetes"): skipped between known names.
TECH_JOINERS: frozenset[str] = frozenset({"in", "n", "an", "end", "&"})

# Answers that name no technology at all.
NO_TECH: frozenset[str] = frozenset({"none", "nothing", "no", "n/a", "na", "yes", "etc", "nope"})

# Words trimmed from either end of one tech-list item.
# fmt: off
TECH_ITEM_TRIM: tuple[str, ...] = (
    "also", "some", "a bit of", "a little", "a lot of", "lots of", "mostly", "mainly",
    "primarily", "maybe", "probably", "like", "the", "a", "an", "too", "as well", "etc",
    "and so on", "please", "stuff", "things", "um", "uh", "well", "so", "just", "basically",
    "i guess", "i think", "then", "more", "other", "sometimes", "plus", "and", "or",
)
# fmt: on

# --- interview type and level -------------------------------------------------------------

# fmt: off
INTERVIEW_TYPE_WORDS: dict[str, tuple[str, ...]] = {
    "technical": (
        "technical", "tech", "coding", "code", "programming", "system design", "algorithms?",
        "hard skills?", "data structures",
    ),
    "behavioral": (
        "behaviou?ral", "behaviou?r", "soft[- ]?skills?", "hr", "culture(?:[- ]fit)?",
        "cultural(?:[- ]fit)?", "personality", "situational", "non[- ]?technical", "leadership",
        "people skills", "competency",
    ),
    "mixed": (
        "mix", "mixed", "both", "combination", "combined", "combo", "blend", "hybrid",
        "a bit of (?:each|everything)", "all of (?:them|the above)", "everything", "either",
        "balanced",
    ),
}

# words that choose "mixed" only indirectly ("everything", "either"): read, and asked back
# ("Let's do everything you'll interview." was heard for "Let's do a behavioral interview.")
INDIRECT_MIXED_WORDS = ("everything", "either", "all of (?:them|the above)")

LEVEL_WORDS: dict[str, tuple[str, ...]] = {
    "intern": ("intern", "interns", "internship", "trainee", "student", "apprentice(?:ship)?"),
    "junior": (
        "junior", "jr", "entry", "entry[- ]?level", "graduate", "grad", "new[- ]grad",
        "beginner", "novice", "fresher", "starter",
    ),
    "mid": ("mid", "mid[- ]?level", "middle", "intermediate", "medium", "midlevel"),
    "senior": (
        "senior", "sr", "staff", "principal", "lead", "expert", "advanced", "seasoned",
        "veteran",
    ),
}

# --- numbers ------------------------------------------------------------------------------

UNITS: dict[str, int] = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9,
}
TEENS: dict[str, int] = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
TENS: dict[str, int] = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}
# Words speech-to-text writes for a number it did not hear clearly (th-fronting, "four"
# heard as "far"); read as that number only where the number would be, and confirmed.
SOUNDALIKE_NUMBERS: dict[str, int] = {
    "won": 1, "to": 2, "too": 2, "free": 3, "tree": 3, "for": 4, "far": 4, "fore": 4,
    "fife": 5, "fine": 5, "hive": 5, "i'm": 5, "i": 5, "sicks": 6, "ate": 8, "nein": 9,
    "tin": 10,
}
# idioms for a quantity, longest first
QUANTITY_IDIOMS: tuple[tuple[str, int], ...] = (
    ("half a dozen", 6),
    ("a dozen", 12),
    ("dozen", 12),
    ("a couple of", 2),
    ("a couple", 2),
    ("couple of", 2),
    ("a pair of", 2),
    ("a single", 1),
    ("just one", 1),
    ("a hundred", 100),
    ("hundred", 100),
)

# fmt: on

# --- roles --------------------------------------------------------------------------------

# The last word of most job titles; the role is that word and the modifiers before it.
# fmt: off
ROLE_NOUNS: frozenset[str] = frozenset({
    "developer", "developers", "dev", "engineer", "engineers", "scientist", "analyst",
    "manager", "designer", "architect", "administrator", "admin", "tester", "consultant",
    "specialist", "programmer", "researcher", "lead", "owner", "master", "officer",
    "technician", "coder", "director", "writer", "strategist", "marketer", "recruiter",
    "accountant", "associate", "coordinator", "support", "operator", "advocate", "auditor",
    "sdet", "sre", "cto",
})

# Words that end a role when reading backwards from its noun, or that are skipped before it.
ROLE_STOP_WORDS: frozenset[str] = frozenset({
    "a", "an", "the", "my", "our", "your", "i", "me", "we", "it", "this", "that", "some",
    "for", "as", "to", "at", "in", "on", "of", "into", "towards", "toward", "with", "about",
    "like", "from", "be", "become", "becoming", "am", "is", "are", "was", "were", "being",
    "want", "wanna", "would", "will", "shall", "should", "could", "can", "need", "needs",
    "train", "training", "practice", "practise", "practicing", "practising", "prepare",
    "preparing", "prep", "prepping", "apply", "applying", "interview", "interviewing",
    "interviews", "do", "doing", "go", "going", "get", "getting", "try", "trying", "looking",
    "hoping", "hope", "aiming", "aim", "target", "targeting", "work", "working", "study",
    "studying", "plan", "planning", "ready", "role", "roles", "position", "positions", "job",
    "jobs", "title", "opening", "post", "please", "and", "or", "but", "so", "well", "um",
    "uh", "okay", "ok", "yes", "yeah", "sure", "maybe", "probably", "just", "really",
    "currently", "now", "think", "guess", "say", "let", "lets", "mostly", "kind", "sort",
    "type", "company", "actually", "sorry", "thanks", "thank", "you", "hi", "hello", "oh", "hmm",
})

# How words are spelled inside a role, whatever the speech-to-text made of them.
ROLE_WORD_CASING: dict[str, str] = {
    word.lower(): word
    for word in (
        "DevOps", "DevSecOps", "MLOps", "QA", "iOS", "ML", "SRE", "AI", "UI", "UX", "API",
        "SDET", "BI", "NLP", "LLM", "SEO", "HR", "CTO", "IT", "ETL", "CRM", "SAP", "AR",
        "VR", "Android", "Salesforce", "Shopify", "WordPress",
    )
}
# fmt: on


def compact(name: str) -> str:
    """The lookup key of a technology name: lower case without spaces, dots or dashes."""
    return re.sub(r"[\s.\-_/]+", "", name.lower())


TECH_NAMES: dict[str, str] = {
    compact(alias): canonical
    for canonical, aliases in TECHNOLOGIES.items()
    for alias in (canonical, *aliases)
}

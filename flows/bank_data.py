"""Role domains, general engineering and behavioral questions for the offline bank.

Pure data, read by `question_bank` (questions) and `feedback` (vocabulary). Tiers:
"basic" (intern, junior), "mid" (trade-offs), "senior" (architecture, leadership).
`{tech}` and `{role}` are the only placeholders; templates never put an article before
`{tech}` so any name reads correctly.
"""

from __future__ import annotations

from typing import NamedTuple

Tiers = dict[str, tuple[str, ...]]


class Domain(NamedTuple):
    key: str
    keywords: tuple[str, ...]  # lower-case words or phrases in a role title
    vocab: tuple[str, ...]  # word starts that show domain knowledge in an answer
    tiers: Tiers
    engineering: bool = True  # False: general engineering questions do not fit the role


def _domain(
    key: str,
    keywords: tuple[str, ...],
    vocab: tuple[str, ...],
    basic: tuple[str, ...],
    mid: tuple[str, ...],
    senior: tuple[str, ...],
    engineering: bool = True,
) -> Domain:
    return Domain(key, keywords, vocab, {"basic": basic, "mid": mid, "senior": senior}, engineering)


# In matching order: the first domain with a keyword in the role title wins.
DOMAINS: tuple[Domain, ...] = (
    _domain(
        "product",
        (
            "product manager",
            "product owner",
            "pm",
            "product lead",
            "head of product",
            "product management",
            "program manager",
            "project manager",
            "product director",
            "scrum master",
        ),
        (
            "user",
            "customer",
            "metric",
            "roadmap",
            "priorit",
            "stakeholder",
            "experiment",
            "retention",
            "conversion",
            "okr",
            "kpi",
            "market",
            "research",
            "backlog",
            "mvp",
        ),
        (
            "How would you decide which of three feature requests to build first?",
            "How do you write a user story with clear acceptance criteria?",
            "Which metrics would you look at to tell whether a new feature is successful?",
            "How would you gather feedback from users about a product you own?",
            "What is a minimum viable product, and how would you define one for a new idea?",
            "How would you explain a product decision to an engineer who disagrees with it?",
            "What is your favorite product, and what would you change about it?",
            "How would you run a simple user interview, and what would you avoid asking?",
            "How do you keep a product backlog healthy and prioritized?",
            "How would you measure user satisfaction for an app you manage?",
        ),
        (
            "How would you combine data and qualitative research to find the biggest problem "
            "to solve?",
            "How would you design and read an A/B test for a new onboarding flow?",
            "How would you handle a launch date that engineering says is no longer realistic?",
            "How do you decide what to leave out of a release?",
            "How would you weigh paying down technical debt against building new features?",
            "How would you set goals and key results for your product area next quarter?",
            "How do you work with design and engineering to turn a vague idea into a clear plan?",
            "Daily active users dropped by ten percent last week; how would you investigate?",
            "How would you price a new premium tier of an existing product?",
            "How would you decide whether to build, buy or partner for a new capability?",
        ),
        (
            "How would you build a product strategy and roadmap for the next two years?",
            "How would you align several teams with competing priorities around one product "
            "vision?",
            "How would you decide to retire a product that some customers still love?",
            "How would you take an existing product into a new market?",
            "How would you build a culture of experimentation and learning in a product team?",
            "How would you present a risky product bet to executives and earn their support?",
            "How do you judge the long-term health of a product beyond short-term metrics?",
            "How would you handle a major customer asking for a feature that does not fit "
            "your strategy?",
            "How would you organize product discovery across several teams without slowing "
            "delivery?",
            "How would you coach a new product manager who just joined your team?",
        ),
        engineering=False,
    ),
    _domain(
        "fullstack",
        ("full stack", "full-stack", "fullstack"),
        (
            "api",
            "frontend",
            "backend",
            "database",
            "endpoint",
            "component",
            "auth",
            "cache",
            "deploy",
            "schema",
            "browser",
            "server",
        ),
        (
            "Can you walk me through how data flows from a web form to the database and back "
            "to the screen?",
            "How do you handle authentication between a frontend and a backend, for example "
            "with sessions or tokens?",
            "What is CORS, and why do browsers enforce it?",
            "How would you set up a new full stack project so that it is easy to run locally?",
        ),
        (
            "How do you decide whether a piece of logic belongs in the frontend or the backend?",
            "How would you design an API contract that lets frontend and backend work proceed "
            "in parallel?",
            "How would you add real-time updates to a web app, and when would you use "
            "WebSockets instead of polling?",
            "How would you track down a bug that only appears when the frontend and backend "
            "interact?",
        ),
        (
            "How would you design a full stack feature end to end, from schema to interface, "
            "for a product used by millions?",
            "How would you set up deployments so that frontend and backend releases never "
            "break each other?",
            "How would you decide which parts of a full stack system to build, buy or reuse?",
            "How would you raise the quality bar on a full stack team that ships many small "
            "changes every day?",
        ),
    ),
    _domain(
        "gamedev",
        ("game", "games", "gameplay", "game developer", "game designer", "game programmer"),
        (
            "frame",
            "fps",
            "render",
            "physics",
            "collision",
            "shader",
            "player",
            "engine",
            "latency",
            "profil",
            "memory",
            "asset",
        ),
        (
            "What happens in a game loop during each frame?",
            "Why should movement in a game be scaled by delta time?",
            "How would you detect a collision between two simple shapes in a game?",
            "How do you organize game objects and their behaviors in a small game?",
        ),
        (
            "How would you find out why a game drops below its target frame rate?",
            "How would you implement a state machine for a game character's behavior?",
            "How do you avoid allocation or garbage collection spikes during gameplay?",
            "How would you build a save system that still works after game updates?",
        ),
        (
            "How would you design networking for a multiplayer game so that it feels "
            "responsive despite latency?",
            "How would you plan the technical architecture of a game that ships on several "
            "platforms?",
            "How would you balance designers' requests against performance budgets on a game team?",
            "Which tools would you build to make designers and artists on a game team more "
            "productive?",
        ),
    ),
    _domain(
        "security",
        (
            "security",
            "appsec",
            "application security",
            "infosec",
            "cybersecurity",
            "cyber",
            "pentest",
            "pentester",
            "penetration tester",
            "soc analyst",
            "red team",
            "blue team",
        ),
        (
            "authenticat",
            "authoriz",
            "encrypt",
            "hash",
            "vulnerab",
            "threat",
            "attack",
            "injection",
            "privilege",
            "secret",
            "patch",
            "incident",
            "audit",
            "xss",
            "csrf",
        ),
        (
            "What is the difference between authentication and authorization?",
            "What is SQL injection, and how do you prevent it?",
            "Why should passwords be hashed with a slow algorithm instead of encrypted?",
            "What does the principle of least privilege mean in practice?",
        ),
        (
            "How would you threat model a new feature before it is built?",
            "How does cross-site request forgery work, and how do you defend against it?",
            "How would you handle a vulnerability reported in one of your third-party "
            "dependencies?",
            "How would you store and rotate secrets such as API keys and database passwords?",
        ),
        (
            "What would you do in the first hours after discovering a possible data breach?",
            "How would you build a security program that developers see as helpful rather than "
            "a blocker?",
            "How would you design authentication and access control for a system used by many "
            "organizations?",
            "How would you prioritize a long list of security findings with limited "
            "engineering time?",
        ),
    ),
    _domain(
        "qa",
        (
            "qa",
            "quality assurance",
            "quality engineer",
            "tester",
            "testing",
            "test engineer",
            "test automation",
            "sdet",
            "automation engineer",
        ),
        (
            "test",
            "bug",
            "regression",
            "automat",
            "coverage",
            "flaky",
            "edge case",
            "reproduc",
            "assert",
            "acceptance",
            "exploratory",
            "ci/cd",
        ),
        (
            "What is the difference between unit, integration and end-to-end tests?",
            "How do you write a clear bug report that a developer can act on?",
            "How would you design test cases for a login form?",
            "What is regression testing, and when do you run it?",
        ),
        (
            "How do you decide what to automate and what to keep as manual or exploratory testing?",
            "How would you deal with a flaky test suite that the team has stopped trusting?",
            "How would you test an API, including its error cases and edge cases?",
            "How do you manage test data so that tests are repeatable?",
        ),
        (
            "How would you build a test strategy for a product that ships several times a day?",
            "How would you measure quality beyond counting bugs, and report it to leadership?",
            "How would you introduce performance and load testing to a team that has never "
            "done it?",
            "How would you move a team from a separate testing phase to shared ownership of "
            "quality?",
        ),
    ),
    _domain(
        "data",
        (
            "data",
            "data scientist",
            "data engineer",
            "data analyst",
            "analyst",
            "analytics",
            "machine learning",
            "ml",
            "ai",
            "deep learning",
            "nlp",
            "computer vision",
            "mlops",
            "research scientist",
            "statistician",
            "business intelligence",
            "bi",
        ),
        (
            "model",
            "feature",
            "dataset",
            "train",
            "metric",
            "accuracy",
            "precision",
            "recall",
            "overfit",
            "pipeline",
            "statistic",
            "distribution",
            "sample",
            "bias",
            "valid",
        ),
        (
            "What is the difference between supervised and unsupervised learning, with an "
            "example of each?",
            "How do you explore and clean a new dataset before analyzing it?",
            "Why do we split data into training, validation and test sets?",
            "What is the difference between the mean and the median, and when would you report "
            "each?",
        ),
        (
            "How would you choose an evaluation metric for an imbalanced classification problem?",
            "How would you design an A/B test and decide whether its result is significant?",
            "How do you detect and prevent data leakage when building a model?",
            "How would you explain a model's predictions to a stakeholder without a technical "
            "background?",
        ),
        (
            "How would you build a data pipeline that other teams can trust, including tests "
            "and monitoring for data quality?",
            "How would you detect and respond to model drift in production?",
            "How would you decide whether a business problem needs machine learning at all?",
            "How would you set up a team's workflow so that experiments are reproducible and "
            "models are reviewed before release?",
        ),
    ),
    _domain(
        "devops",
        (
            "devops",
            "dev ops",
            "devsecops",
            "sre",
            "site reliability",
            "reliability",
            "cloud",
            "infrastructure",
            "platform",
            "operations",
            "ops",
            "sysadmin",
            "system administrator",
            "systems administrator",
            "release engineer",
            "build engineer",
        ),
        (
            "deploy",
            "pipeline",
            "container",
            "monitor",
            "alert",
            "incident",
            "rollback",
            "infrastructure",
            "cluster",
            "scal",
            "latency",
            "uptime",
            "slo",
            "automat",
            "logging",
        ),
        (
            "What does a CI/CD pipeline do, and which stages would you include?",
            "What is the difference between a virtual machine and a container?",
            "What would you check first if a deployed service stopped responding?",
            "Why do teams use infrastructure as code instead of configuring servers by hand?",
        ),
        (
            "How would you define service level objectives and alerts that don't wake people "
            "up for nothing?",
            "How would you run a blue-green or canary deployment, and when would you pick each?",
            "How would you manage secrets across environments and deployment pipelines?",
            "How would you approach logs, metrics and traces for a set of services?",
        ),
        (
            "How would you design infrastructure for a service that must survive a full "
            "region outage?",
            "How would you run blameless postmortems and make sure their action items "
            "actually get done?",
            "How would you build an internal platform that makes teams faster without taking "
            "away their control?",
            "How would you plan capacity and cost for infrastructure that is growing quickly?",
        ),
    ),
    _domain(
        "mobile",
        ("mobile", "ios", "android", "iphone", "app developer", "mobile app"),
        (
            "screen",
            "lifecycle",
            "offline",
            "battery",
            "push notification",
            "app store",
            "crash",
            "layout",
            "device",
            "sync",
            "navigation",
            "render",
        ),
        (
            "What is the lifecycle of a screen in a mobile app, and why does it matter?",
            "How do you build a mobile layout that adapts to different screen sizes?",
            "How does a mobile app store small amounts of data locally, such as settings or a "
            "login token?",
            "How do you call a web API from a mobile app and show loading and error states?",
        ),
        (
            "How would you make a mobile app work well offline and sync when the connection "
            "returns?",
            "How would you find and fix a mobile screen that scrolls slowly or drops frames?",
            "How do you handle push notifications and deep links in a mobile app?",
            "How do you reduce battery and data usage in a mobile app?",
        ),
        (
            "How would you design the architecture of a large mobile app built by several teams?",
            "How would you plan releases, feature flags and staged rollouts for a mobile app, "
            "given app store review times?",
            "How would you keep old mobile app versions working when your backend API needs to "
            "change?",
            "How would you measure and improve crash rates and startup time across a mobile "
            "app's users?",
        ),
    ),
    _domain(
        "embedded",
        (
            "embedded",
            "firmware",
            "iot",
            "microcontroller",
            "hardware",
            "robotics",
            "rtos",
            "embedded systems",
        ),
        (
            "interrupt",
            "register",
            "memory",
            "timer",
            "rtos",
            "peripheral",
            "power",
            "dma",
            "latency",
            "real-time",
            "driver",
            "debugg",
            "oscilloscope",
        ),
        (
            "What is an interrupt, and what should an interrupt handler avoid doing?",
            "What does the volatile keyword mean in embedded code, and when do you need it?",
            "How do you debug firmware when you cannot simply print to a console?",
            "What is the difference between a microcontroller and a microprocessor?",
        ),
        (
            "How would you share data safely between an interrupt and the main loop or a task?",
            "How would you reduce the power consumption of a battery-powered device?",
            "How do you choose between polling, interrupts and DMA for a peripheral?",
            "How would you design firmware updates so that a failed update cannot brick the "
            "device?",
        ),
        (
            "How would you architect firmware that has to run on several hardware revisions?",
            "How would you test embedded software automatically, including hardware-in-the-loop "
            "testing?",
            "How would you approach a real-time system where missing a deadline is a safety risk?",
            "How would you work with hardware engineers on a bug that might be in the board or "
            "in the code?",
        ),
    ),
    _domain(
        "frontend",
        (
            "frontend",
            "front-end",
            "front end",
            "ui",
            "ui engineer",
            "ux engineer",
            "web",
            "web developer",
            "web designer",
        ),
        (
            "component",
            "render",
            "browser",
            "state",
            "css",
            "accessib",
            "dom",
            "layout",
            "bundle",
            "performance",
            "responsive",
            "event",
        ),
        (
            "What happens in the browser between typing a URL and seeing the page?",
            "How do you make a web page work well on both phones and large screens?",
            "What do you check to make a frontend usable with a keyboard and a screen reader?",
            "How do you debug a layout or script problem with the browser's developer tools?",
        ),
        (
            "How would you improve the loading time of a slow frontend, and which metrics "
            "would you watch?",
            "How do you decide which state belongs on the server and which in the frontend?",
            "How would you handle forms with validation, errors and loading states in a "
            "frontend app?",
            "How do you test frontend components and user flows, and what do you leave to "
            "end-to-end tests?",
        ),
        (
            "How would you design a component library that several frontend teams can share?",
            "How would you set and enforce performance budgets across a large frontend?",
            "How would you move a large frontend from an old framework to a new one without a "
            "full rewrite?",
            "How would you protect a large frontend against cross-site scripting and other "
            "client-side attacks?",
        ),
    ),
    _domain(
        "backend",
        (
            "backend",
            "back-end",
            "back end",
            "server side",
            "server-side",
            "api",
            "apis",
            "server",
            "microservices",
        ),
        (
            "api",
            "database",
            "endpoint",
            "cache",
            "queue",
            "latency",
            "index",
            "transaction",
            "scal",
            "request",
            "schema",
            "idempot",
            "auth",
            "throughput",
        ),
        (
            "What is the difference between GET, POST, PUT and DELETE in a REST API?",
            "Which HTTP status codes would you return for a successful create, a missing "
            "resource and a validation error?",
            "What is a database index, and how would you tell that a backend query needs one?",
            "How would you store user passwords safely in a backend system?",
        ),
        (
            "How would you design pagination for an API endpoint that returns a very large list?",
            "How would you make an API endpoint idempotent so that retries don't create "
            "duplicates?",
            "When would you put work on a background queue instead of doing it inside the request?",
            "How would you add caching to a slow backend endpoint, and how would you keep the "
            "cache correct?",
        ),
        (
            "How would you design a backend service that handles ten thousand requests per "
            "second with strict latency goals?",
            "How would you choose between a monolith and microservices for a growing backend, "
            "and how would you migrate if needed?",
            "How would you keep data consistent when one business action updates several "
            "backend services?",
            "How would you lead a team through a major backend incident and make sure it "
            "doesn't happen again?",
        ),
    ),
    _domain(
        "generic",
        (),
        (
            "test",
            "design",
            "debug",
            "refactor",
            "performance",
            "complexity",
            "trade-off",
            "tradeoff",
            "review",
            "maintain",
            "interface",
            "data structure",
            "algorithm",
        ),
        (
            "What is the difference between a process and a thread?",
            "How would you explain time complexity, and what is the complexity of searching a "
            "sorted list?",
            "When would you use a hash map instead of a list?",
            "What makes code readable to you, and how do you keep your own code clean?",
        ),
        (
            "How do you design a function or module so that it is easy to test?",
            "How would you approach debugging an issue that only happens in production?",
            "How do you decide when code needs refactoring, and how do you refactor safely?",
            "What makes a good code review, both as the author and as the reviewer?",
        ),
        (
            "How would you design a service like a URL shortener that serves millions of users?",
            "How do you make an important technical decision when the team disagrees?",
            "How do you balance shipping quickly with keeping the codebase healthy over time?",
            "How would you help a team improve the reliability of a system that keeps having "
            "incidents?",
        ),
    ),
)

# Fallback for every engineering role once its domain questions run out.
GENERAL: Tiers = {
    "basic": (
        "What is version control, and how do you use branches in your daily work?",
        "How do you approach a programming task you have never done before?",
        "What is a unit test, and what makes one useful?",
        "What is the difference between a compiled and an interpreted language?",
        "How do you make sure your code handles unexpected input?",
        "What is an API, in your own words?",
        "What does it mean for code to be modular, and why does it matter?",
        "How do you use logging to understand what your program is doing?",
    ),
    "mid": (
        "How do you estimate how long a piece of work will take?",
        "How would you design the error handling for a feature that calls several external "
        "services?",
        "What is the difference between concurrency and parallelism, with an example of each?",
        "How would you make a slow piece of code faster, step by step?",
        "How do you decide between writing something yourself and using a library?",
        "What are the trade-offs between a relational database and a document store?",
        "How do you keep a pull request small and easy to review?",
        "How do you keep backward compatibility when changing an interface others depend on?",
    ),
    "senior": (
        "How do you decide when a system needs to be redesigned rather than patched?",
        "How would you set engineering standards for a team without slowing it down?",
        "How do you mentor a junior engineer who is struggling with a complex codebase?",
        "How would you evaluate a new technology before adopting it across the team?",
        "How do you document architecture decisions so that future engineers understand them?",
        "How would you plan a large migration that touches many teams?",
        "How do you explain the cost of technical debt to stakeholders facing a deadline?",
        "Which signals tell you that a system's design is starting to fail as it grows?",
    ),
}

# For any technology without (enough) curated questions. Each is used once per set.
TECH_TEMPLATES: Tiers = {
    "basic": (
        "What problem does {tech} solve, and when would you reach for it over the alternatives?",
        "How would you explain the core ideas of {tech} to a teammate who has never used it?",
        "Can you describe a small project where you used {tech}, and what you learned from it?",
        "How did you get started with {tech}, and what was hardest to learn at first?",
        "What is one feature of {tech} you find especially useful, and why?",
        "How do you find answers when you get stuck on something in {tech}?",
    ),
    "mid": (
        "What are the main trade-offs of using {tech}, and when would you not choose it?",
        "What is a common mistake people make with {tech}, and how do you avoid it?",
        "How do you make sure work built with {tech} is correct before it ships?",
        "How have you tracked down a slow or misbehaving part of a project that used {tech}?",
        "How do you keep work done in {tech} maintainable as a project grows?",
        "How do you deal with errors or unexpected behavior when working with {tech}?",
    ),
    "senior": (
        "If you were choosing {tech} for a new product, how would you justify it to the "
        "team, and which risks would you plan for?",
        "What limits have you hit with {tech} as a project grew, and how would you plan "
        "around them?",
        "How would you handle a major version upgrade of {tech} on a large project without "
        "stopping feature work?",
        "Which standards or guidelines would you set for a team working with {tech}?",
        "How would you help an engineer who is new to {tech} become productive quickly?",
        "How do you know that something built with {tech} is healthy once real users depend on it?",
    ),
}

# Opening question of behavioral and mixed interviews.
WARMUPS: tuple[str, ...] = (
    "To warm up, could you tell me a little about yourself and what draws you to the "
    "{role} position?",
    "Let's start easy: how did you get into this field, and what excites you about the "
    "{role} position?",
    "To begin, could you walk me through your background and why the {role} position "
    "interests you?",
)

# STAR-style questions for every level.
BEHAVIORAL_COMMON: tuple[str, ...] = (
    "What is an accomplishment you are especially proud of, and what was your part in it?",
    "Can you tell me about a time you received critical feedback, and what you did with it?",
    "Could you describe a situation where you had to meet a tight deadline, and how you "
    "handled it?",
    "Can you tell me about a mistake you made, and what you learned from it?",
    "How do you prioritize when several people need something from you at the same time?",
    "Can you describe a time when you had to explain something complicated to someone "
    "without your background?",
    "Can you tell me about a time a plan changed at the last minute, and how you adapted?",
    "What kind of work environment helps you do your best work, and why?",
    "Can you describe a time you noticed a problem that wasn't your responsibility, and "
    "what you did about it?",
    "Could you tell me about a time you worked with someone whose style was very different "
    "from yours?",
    "What is something you taught yourself recently, and how did you go about it?",
    "Can you describe a goal you set for yourself and how you tracked your progress toward it?",
    "How do you handle stress when several things go wrong at once?",
    "Could you tell me about a time you went beyond what was asked of you?",
    "Can you describe a time when you had to decide without all the information you wanted?",
    "Can you tell me about a time you helped someone else succeed, and what you did?",
    "What is a piece of feedback you gave someone, and how did you deliver it?",
    "Where do you want to grow over the next couple of years, and what are you doing about it?",
)

# Level-specific STAR questions: learning and teamwork; ownership; leading and hiring.
BEHAVIORAL: Tiers = {
    "basic": (
        "Can you tell me about a group project where you had to divide the work, and what "
        "your role was?",
        "How do you approach learning a skill that is completely new to you?",
        "Can you describe a time you were stuck and asked for help, and how you decided "
        "when to ask?",
        "Can you tell me about a time a teammate wasn't pulling their weight, and what you did?",
        "What is the hardest thing you learned in the past year, and how did you master it?",
        "Can you describe a time you had to balance studies or work with other commitments?",
        "How do you respond when someone more experienced reviews your work and finds problems?",
        "Could you share an example of when you took initiative in a team, even in a small way?",
        "What did you learn from an internship, class project or side project that surprised you?",
        "Can you tell me about a time you misunderstood a task, and how you got back on track?",
        "How do you keep yourself organized when several assignments are due at once?",
        "Can you describe a time you suggested an idea that your team adopted?",
    ),
    "mid": (
        "Can you tell me about a project you owned from start to finish, and what the result was?",
        "Could you describe a time you had to push back on a request from a stakeholder?",
        "Can you tell me about a time you worked across teams to get something done?",
        "Can you describe a time you had to choose between doing something quickly and "
        "doing it properly, and what you decided?",
        "Can you tell me about a time you disagreed with your manager, and how it was resolved?",
        "Can you describe a time you improved a process that was slowing your team down?",
        "How have you helped a newer colleague get up to speed?",
        "Can you tell me about a project that failed or was cancelled, and what you took from it?",
        "Could you describe a time you had to deliver bad news to a customer or stakeholder?",
        "Can you tell me about a time you estimated work with a lot of uncertainty, and "
        "how it turned out?",
        "Could you describe a time you took over work from someone else that was in poor shape?",
        "How do you decide when to escalate a problem rather than solve it yourself?",
    ),
    "senior": (
        "Can you tell me about a time you led a team through a difficult project, and how "
        "you kept people motivated?",
        "Could you describe a conflict between two team members that you helped resolve?",
        "Can you tell me about a time you influenced a decision without having formal authority?",
        "How do you approach hiring, and can you describe a hiring decision you are proud of?",
        "Can you describe how you mentored someone who then grew into a bigger role?",
        "Can you tell me about a time you changed the direction of a team or project, and "
        "how you brought people along?",
        "Could you describe a time you gave difficult feedback to a strong performer?",
        "Can you tell me about a time you handled an underperforming team member?",
        "How have you built trust with a team you were new to leading?",
        "Can you describe a strategic decision you made that turned out to be wrong, and "
        "how you responded?",
        "Can you tell me about a time you balanced the needs of your team against pressure "
        "from leadership?",
        "How do you create an environment where people feel safe raising problems early?",
        "Can you describe a time you represented your team in a tough negotiation with "
        "another department?",
        "Could you describe how you shaped the culture or practices of a team or organization?",
    ),
}

# Answer vocabulary for offline feedback. Whole words or phrases; "*" allows endings.
STRUCTURE_WORDS: tuple[str, ...] = (
    "first",
    "second",
    "then",
    "finally",
    "because",
    "so that",
    "therefore",
    "for example",
    "for instance",
    "such as",
    "as a result",
    "result*",
    "outcome",
    "situation",
    "my task",
    "i decided",
    "instead",
    "however",
    "trade-off*",
    "tradeoff*",
    "measur*",
    "in the end",
    "which meant",
)
COLLABORATION_WORDS: tuple[str, ...] = (
    "team*",
    "we",
    "us",
    "together",
    "collaborat*",
    "colleague*",
    "stakeholder*",
    "customer*",
    "user*",
    "mentor*",
    "help*",
    "feedback",
    "learn*",
    "communicat*",
    "pair*",
    "manager",
)
FILLER_WORDS: tuple[str, ...] = (
    "um",
    "umm",
    "uh",
    "uhh",
    "erm",
    "hmm",
    "you know",
    "kind of",
    "sort of",
    "i guess",
    "maybe",
    "don't know",
    "dont know",
    "not sure",
    "no idea",
)
# Technology aliases too common in speech to count as naming the technology.
VAGUE_ALIASES: frozenset[str] = frozenset({"next", "rabbit", "elastic", "panda"})
# How a domain is named in feedback ("used 7 backend terms").
DOMAIN_LABELS: dict[str, str] = {
    "generic": "engineering",
    "qa": "testing",
    "gamedev": "game development",
    "fullstack": "full stack",
    "devops": "infrastructure",
}

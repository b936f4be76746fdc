"""Curated technical questions per technology, for the offline question bank.

Pure data. Every question names its technology, ends with "?" and reads well aloud.
Display names follow the collector's canonical spellings (`vocabulary.TECHNOLOGIES`).
Tiers: "basic" (intern, junior), "mid" (trade-offs), "senior" (architecture, leadership).
"""

from __future__ import annotations

from typing import NamedTuple


class Tech(NamedTuple):
    name: str
    aliases: tuple[str, ...]  # lower-case spellings and spoken forms besides the name
    domain: str  # the role domain this technology suggests ("backend", "data", ...)
    tiers: dict[str, tuple[str, ...]]  # tier -> questions
    terms: tuple[str, ...] = ()  # extra words that show the technology in an answer


def _tech(
    name: str,
    aliases: tuple[str, ...],
    domain: str,
    basic: tuple[str, ...],
    mid: tuple[str, ...],
    senior: tuple[str, ...],
    terms: tuple[str, ...] = (),
) -> Tech:
    return Tech(name, aliases, domain, {"basic": basic, "mid": mid, "senior": senior}, terms)


TECHS: tuple[Tech, ...] = (
    _tech(
        "Python",
        ("python3", "py"),
        "backend",
        (
            "In Python, what is the difference between a list and a tuple, and when would you "
            "use each?",
            "How do you manage dependencies and virtual environments for a Python project?",
        ),
        (
            "How do Python generators work, and when would you choose one over building a full "
            "list?",
            "What does the global interpreter lock mean for Python code that is CPU-bound versus "
            "I/O-bound?",
        ),
        (
            "How would you structure a large Python codebase so that several teams can work on "
            "it without stepping on each other?",
            "When a Python service gets slow under load, how would you profile it and decide "
            "between optimizing, caching, or moving the work elsewhere?",
        ),
    ),
    _tech(
        "JavaScript",
        ("js", "ecmascript", "es6", "java script"),
        "frontend",
        (
            "In JavaScript, what is the difference between let, const and var?",
            "How does the JavaScript event loop decide when a callback or a promise runs?",
        ),
        (
            "What are closures in JavaScript, and can you describe a situation where one caused "
            "a bug or solved a problem?",
            "How do you handle errors with async and await in JavaScript, including failures in "
            "parallel requests?",
        ),
        (
            "How would you keep a large JavaScript codebase consistent and safe to change across "
            "many contributors?",
            "What strategy would you use to find and fix a memory leak in a long-running "
            "JavaScript application?",
        ),
    ),
    _tech(
        "TypeScript",
        ("ts", "type script"),
        "frontend",
        (
            "What does TypeScript add on top of JavaScript, and how does it help you catch "
            "mistakes early?",
            "In TypeScript, when would you use an interface versus a type alias?",
        ),
        (
            "How do generics work in TypeScript, and can you give an example where they made an "
            "API safer?",
            "How do you model data that can take one of several shapes in TypeScript, for "
            "example with discriminated unions?",
        ),
        (
            "How would you migrate a large JavaScript codebase to TypeScript step by step "
            "without blocking feature work?",
            "How strict would you make the TypeScript compiler settings for a team, and how "
            "would you handle the any type?",
        ),
    ),
    _tech(
        "React",
        ("reactjs", "react.js", "react dot js"),
        "frontend",
        (
            "In React, what is the difference between props and state?",
            "What does the useEffect hook do in React, and when does its cleanup function run?",
        ),
        (
            "How do you prevent unnecessary re-renders in React, and how do you confirm that an "
            "optimization actually helped?",
            "When would you lift state up, use context, or bring in a state library in a React "
            "app?",
        ),
        (
            "How would you structure a large React application so that features stay "
            "independent and shared components stay consistent?",
            "How would you decide between client-side rendering and server rendering for a "
            "React product, and which trade-offs matter most?",
        ),
        ("component", "hook", "jsx", "useeffect", "usestate"),
    ),
    _tech(
        "Node.js",
        ("node", "nodejs", "node js", "node dot js"),
        "backend",
        (
            "What makes Node.js a good fit for I/O-heavy work, and what kind of work is it bad at?",
            "How do you read configuration and secrets in a Node.js application without "
            "hard-coding them?",
        ),
        (
            "How do streams work in Node.js, and when would you use them instead of reading a "
            "whole file into memory?",
            "How would you handle a CPU-heavy task in a Node.js service without blocking other "
            "requests?",
        ),
        (
            "How would you design graceful shutdown and error handling for a Node.js service "
            "running in production?",
            "How would you diagnose rising latency and memory use in a Node.js API under real "
            "traffic?",
        ),
        ("npm", "event loop"),
    ),
    _tech(
        "Java",
        ("jdk", "jvm"),
        "backend",
        (
            "In Java, what is the difference between an interface and an abstract class?",
            "How do equals and hashCode relate in Java, and what goes wrong if you override "
            "only one of them?",
        ),
        (
            "How does garbage collection work in Java, and how would you spot a memory problem "
            "in a running application?",
            "What does Java give you for concurrency, and when would you use an executor "
            "service instead of plain threads?",
        ),
        (
            "How would you approach modernizing a large legacy Java system while it keeps "
            "serving customers?",
            "How would you tune and observe the JVM for a latency-sensitive Java service?",
        ),
    ),
    _tech(
        "Spring Boot",
        ("spring", "springboot", "spring framework"),
        "backend",
        (
            "What does dependency injection mean in Spring Boot, and why is it useful?",
            "How does Spring Boot auto-configuration decide which beans to create?",
        ),
        (
            "How do transactions work in Spring Boot, and what are common pitfalls with the "
            "Transactional annotation?",
            "How would you test a Spring Boot application at the unit, slice and integration "
            "levels?",
        ),
        (
            "How would you split a large Spring Boot monolith into services, and how would you "
            "decide where the boundaries go?",
            "What would you put in place to make Spring Boot services observable and resilient "
            "in production?",
        ),
        ("bean", "autowired", "actuator"),
    ),
    _tech(
        "Go",
        ("golang", "go lang"),
        "backend",
        (
            "What are goroutines and channels in Go, and how do they work together?",
            "How does error handling in Go differ from exceptions in other languages?",
        ),
        (
            "How do you use the context package in Go to handle timeouts and cancellation?",
            "How would you find and fix a data race or a goroutine leak in a Go program?",
        ),
        (
            "How would you structure packages and interfaces in a large Go codebase so it stays "
            "easy to change?",
            "How would you design a Go service to absorb bursts of traffic without running out "
            "of memory?",
        ),
        ("goroutine", "go func", "go mod"),
    ),
    _tech(
        "Rust",
        ("rustlang",),
        "backend",
        (
            "What problem does ownership solve in Rust, and what happens when a value is moved?",
            "How do Result and Option shape error handling in Rust?",
        ),
        (
            "How do lifetimes work in Rust, and can you describe a borrow checker error you had "
            "to work through?",
            "When would you use traits with generics versus trait objects in Rust?",
        ),
        (
            "How would you decide whether to introduce Rust into an existing system, and how "
            "would you integrate it with the rest of the stack?",
            "How do you keep unsafe code in a Rust codebase small, reviewed and well documented?",
        ),
        ("borrow checker", "cargo", "crate"),
    ),
    _tech(
        "C#",
        ("c sharp", "csharp"),
        "backend",
        (
            "In C#, what is the difference between a class and a struct?",
            "How do async and await work in C#, and why should you avoid blocking on a task?",
        ),
        (
            "How does LINQ work in C#, and when can deferred execution surprise you?",
            "How do you manage disposable resources in C#, and when would you implement "
            "IDisposable yourself?",
        ),
        (
            "How would you organize a large C# solution into projects and layers so that it "
            "stays testable?",
            "How would you track down high memory use or excessive allocations in a C# service?",
        ),
        ("linq", "nuget"),
    ),
    _tech(
        ".NET",
        ("dotnet", "dot net", "net core", ".net core", "asp.net", "asp.net core"),
        "backend",
        (
            "What is the role of the dependency injection container in a .NET application?",
            "How does middleware work in an ASP.NET Core pipeline on .NET?",
        ),
        (
            "How would you choose between Entity Framework and a lighter data access approach "
            "in .NET?",
            "How do you handle configuration for different environments in a .NET application?",
        ),
        (
            "How would you plan an upgrade of several older .NET Framework applications to "
            "modern .NET?",
            "How would you design health checks, logging and metrics for a fleet of .NET services?",
        ),
        ("entity framework", "nuget", "asp.net"),
    ),
    _tech(
        "C++",
        ("cpp", "c plus plus", "cplusplus"),
        "generic",
        (
            "In C++, what is RAII and why does it matter?",
            "What is the difference between a pointer and a reference in C++?",
        ),
        (
            "When would you use unique_ptr versus shared_ptr in C++, and what does each one cost?",
            "What do move semantics give you in C++, and when does a copy happen by accident?",
        ),
        (
            "How would you design a C++ component for low latency while keeping it safe and "
            "maintainable?",
            "What practices and tools would you put in place to catch undefined behavior in a "
            "C++ codebase?",
        ),
        ("raii", "smart pointer", "unique_ptr", "shared_ptr"),
    ),
    _tech(
        "Kubernetes",
        ("k8s", "kube"),
        "devops",
        (
            "What is the difference between a pod, a deployment and a service in Kubernetes?",
            "How do liveness and readiness probes differ in Kubernetes?",
        ),
        (
            "How would you set resource requests and limits in Kubernetes, and what happens when "
            "a container exceeds them?",
            "How would you roll out a new version on Kubernetes with no downtime, and roll it "
            "back if it misbehaves?",
        ),
        (
            "How would you design a multi-tenant Kubernetes platform that keeps teams isolated "
            "but productive?",
            "How would you plan Kubernetes cluster upgrades across many environments with "
            "minimal risk?",
        ),
        ("pod", "helm", "kubectl", "ingress", "namespace"),
    ),
    _tech(
        "Docker",
        ("docker compose", "docker-compose"),
        "devops",
        (
            "What is the difference between a Docker image and a container?",
            "What goes into a good Dockerfile, and how do Docker image layers affect build time?",
        ),
        (
            "How do multi-stage builds help keep Docker images small and secure?",
            "How would you debug a Docker container that exits right after it starts?",
        ),
        (
            "What standards would you set for Docker images across an organization, including "
            "base images and security scanning?",
            "How would you make Docker builds fast and reproducible in a busy CI pipeline?",
        ),
        ("container", "dockerfile"),
    ),
    _tech(
        "AWS",
        ("amazon web services",),
        "devops",
        (
            "Which AWS services would you use to host a simple web application, and why?",
            "What is an IAM role in AWS, and how is it different from an IAM user?",
        ),
        (
            "How would you design an AWS setup that survives the loss of an availability zone?",
            "How would you choose between Lambda, ECS and EC2 on AWS for a new service?",
        ),
        (
            "How would you keep AWS costs under control as a platform grows, without slowing "
            "teams down?",
            "How would you structure AWS accounts, networking and permissions for an "
            "organization with many teams?",
        ),
        ("s3", "ec2", "lambda", "iam", "cloudwatch", "vpc"),
    ),
    _tech(
        "PostgreSQL",
        ("postgres", "postgre", "psql", "postgress", "post gres"),
        "backend",
        (
            "What is an index in PostgreSQL, and how does it speed up a query?",
            "What does a transaction guarantee in PostgreSQL?",
        ),
        (
            "How do you read an EXPLAIN ANALYZE plan in PostgreSQL to find out why a query is "
            "slow?",
            "How would you add a column or an index to a large PostgreSQL table without locking "
            "out traffic?",
        ),
        (
            "How would you scale PostgreSQL when a single primary can no longer keep up?",
            "How would you plan backups, point-in-time recovery and failover for a critical "
            "PostgreSQL database?",
        ),
        ("vacuum", "explain analyze", "psql", "pg_dump"),
    ),
    _tech(
        "MySQL",
        ("my sql", "mariadb"),
        "backend",
        (
            "What is the difference between the InnoDB and MyISAM storage engines in MySQL?",
            "How would you find the slowest queries in a MySQL database?",
        ),
        (
            "How do transaction isolation levels work in MySQL, and which problems does each "
            "one prevent?",
            "How does replication work in MySQL, and what causes replication lag?",
        ),
        (
            "How would you shard or partition a MySQL database that has outgrown one server?",
            "How would you move a busy application off MySQL onto another database with "
            "minimal downtime?",
        ),
        ("innodb",),
    ),
    _tech(
        "MongoDB",
        ("mongo",),
        "backend",
        (
            "How does storing documents in MongoDB differ from storing rows in a relational "
            "database?",
            "How do indexes work in MongoDB, and how do you check that a query uses one?",
        ),
        (
            "When would you embed data in a MongoDB document versus reference it from another "
            "collection?",
            "How do write concerns and read preferences in MongoDB affect consistency?",
        ),
        (
            "How would you choose a shard key in MongoDB, and what happens if you pick a bad one?",
            "When would you advise a team against MongoDB, and what would you propose instead?",
        ),
        ("aggregation", "bson"),
    ),
    _tech(
        "Redis",
        (),
        "backend",
        (
            "What is Redis typically used for, and why is it so fast?",
            "How do expiration times work in Redis, and why do they matter for a cache?",
        ),
        (
            "How would you use Redis as a cache without serving stale data for too long?",
            "How would you implement rate limiting with Redis?",
        ),
        (
            "How would you make Redis highly available, and what data could you lose during a "
            "failover?",
            "How would you prevent a cache stampede when a popular Redis key expires?",
        ),
        ("ttl", "pub/sub", "sorted set"),
    ),
    _tech(
        "Django",
        ("django rest framework", "drf"),
        "backend",
        (
            "How do models, views and templates fit together in Django?",
            "What do migrations do in Django, and how do you apply them safely?",
        ),
        (
            "How do you spot and fix the N plus one query problem in the Django ORM?",
            "How does Django middleware work, and when would you write your own?",
        ),
        (
            "How would you structure a large Django project into apps so that teams can own "
            "separate parts?",
            "How would you scale a Django application that struggles with database load and "
            "slow pages?",
        ),
        ("orm", "queryset", "select_related"),
    ),
    _tech(
        "FastAPI",
        ("fast api",),
        "backend",
        (
            "How does FastAPI use type hints and Pydantic models to validate requests?",
            "How does dependency injection work in FastAPI?",
        ),
        (
            "When should a FastAPI endpoint be async, and what happens if you call blocking "
            "code inside it?",
            "How would you test a FastAPI application, including its database access?",
        ),
        (
            "How would you design versioning, authentication and error handling for a public "
            "API built with FastAPI?",
            "How would you run FastAPI in production so it handles high concurrency reliably?",
        ),
        ("pydantic", "uvicorn"),
    ),
    _tech(
        "Flask",
        (),
        "backend",
        (
            "How does routing work in Flask, and how do you return JSON from a view?",
            "What are the application context and the request context in Flask?",
        ),
        (
            "How do blueprints help organize a growing Flask application?",
            "How would you add authentication and input validation to a Flask API?",
        ),
        (
            "When would you keep a service on Flask, and when would you move it to another "
            "framework?",
            "How would you deploy and scale a Flask application behind a production web server?",
        ),
        ("blueprint", "gunicorn"),
    ),
    _tech(
        "Vue.js",
        ("vue", "vuejs", "vue dot js", "vue 3"),
        "frontend",
        (
            "How does reactivity work in Vue.js when you change a piece of state?",
            "In Vue.js, what is the difference between a computed property and a watcher?",
        ),
        (
            "How do components communicate in Vue.js, with props, events, and provide and inject?",
            "When would you use the Composition API instead of the Options API in Vue.js?",
        ),
        (
            "How would you organize state management in a large Vue.js application?",
            "How would you plan the migration of a big Vue.js 2 codebase to Vue.js 3?",
        ),
        ("pinia", "vuex", "single-file component"),
    ),
    _tech(
        "Angular",
        ("angularjs",),
        "frontend",
        (
            "What are components, modules and services in Angular, and how do they relate?",
            "How does data binding work in Angular templates?",
        ),
        (
            "How does change detection work in Angular, and when would you use the OnPush "
            "strategy?",
            "How do you use RxJS observables in Angular without leaking subscriptions?",
        ),
        (
            "How would you structure a large Angular application with lazy loading and shared "
            "libraries?",
            "How would you plan upgrades across several Angular major versions for a large "
            "product?",
        ),
        ("rxjs", "observable"),
    ),
    _tech(
        "Kotlin",
        (),
        "mobile",
        (
            "How does Kotlin handle null safety, and how does that differ from Java?",
            "What are data classes in Kotlin, and what do you get for free with them?",
        ),
        (
            "How do coroutines work in Kotlin, and how do you make sure they are cancelled "
            "properly?",
            "When would you use a sealed class in Kotlin?",
        ),
        (
            "How would you introduce Kotlin into an existing Java codebase, and which "
            "interoperability issues would you watch for?",
            "How would you structure concurrency with Kotlin coroutines in a large Android app "
            "or backend service?",
        ),
        ("coroutine", "nullable", "android"),
    ),
    _tech(
        "Swift",
        (),
        "mobile",
        (
            "In Swift, what is the difference between a struct and a class?",
            "How do optionals work in Swift, and what are safe ways to unwrap them?",
        ),
        (
            "How do you avoid retain cycles in Swift, and when would you use weak versus "
            "unowned references?",
            "How does async and await in Swift change the way you write networking code?",
        ),
        (
            "How would you architect a large Swift app so that features can be built and "
            "tested independently?",
            "How would you decide when to adopt SwiftUI in an existing Swift app built with "
            "UIKit, and how would you migrate?",
        ),
        ("swiftui", "uikit", "xcode"),
    ),
    _tech(
        "GraphQL",
        ("graph ql",),
        "backend",
        (
            "How does GraphQL differ from a REST API from the client's point of view?",
            "What are queries, mutations and subscriptions in GraphQL?",
        ),
        (
            "How would you solve the N plus one problem in GraphQL resolvers?",
            "How do you handle errors and partial results in GraphQL?",
        ),
        (
            "How would you protect a public GraphQL API from very expensive queries?",
            "How would you evolve a GraphQL schema used by many clients without breaking them?",
        ),
        ("resolver", "mutation", "dataloader"),
    ),
    _tech(
        "Terraform",
        ("hcl",),
        "devops",
        (
            "What is Terraform state, and why does it matter?",
            "What happens when you run plan and then apply in Terraform?",
        ),
        (
            "How do you structure Terraform code into reusable modules?",
            "How do you handle drift between your Terraform code and what is actually running?",
        ),
        (
            "How would you organize Terraform state and pipelines safely for many teams and "
            "environments?",
            "How would you review and roll out a risky Terraform change to production "
            "infrastructure?",
        ),
        ("tfstate", "terraform plan", "hcl"),
    ),
    _tech(
        "Kafka",
        ("apache kafka",),
        "backend",
        (
            "What are topics, partitions and consumer groups in Kafka?",
            "Why would you put Kafka between two services instead of having them call each "
            "other directly?",
        ),
        (
            "How does Kafka guarantee ordering, and how does the partition key affect it?",
            "How would you handle duplicate or out-of-order messages when consuming from Kafka?",
        ),
        (
            "How would you design a pipeline on Kafka that needs exactly-once processing end to "
            "end?",
            "How would you plan capacity, retention and schema evolution for Kafka across many "
            "teams?",
        ),
        ("consumer group", "partition", "offset"),
    ),
    _tech(
        "TensorFlow",
        ("tensor flow", "keras"),
        "data",
        (
            "What is a tensor in TensorFlow, and how does a model learn from data during training?",
            "How do you build and train a simple model with the Keras API in TensorFlow?",
        ),
        (
            "How would you build an efficient input pipeline for training in TensorFlow?",
            "How do you detect and reduce overfitting in a TensorFlow model?",
        ),
        (
            "How would you take a TensorFlow model from a notebook to a reliable production "
            "service?",
            "How would you scale TensorFlow training across several GPUs or machines?",
        ),
        ("tensor", "keras", "gradient", "epoch"),
    ),
    _tech(
        "PyTorch",
        ("torch", "py torch"),
        "data",
        (
            "What does autograd do in PyTorch?",
            "What does a basic training loop look like in PyTorch, step by step?",
        ),
        (
            "How do you use datasets and data loaders in PyTorch to feed a model efficiently?",
            "How would you debug a PyTorch model whose loss is not going down?",
        ),
        (
            "How would you set up distributed training in PyTorch, and which bottlenecks would "
            "you watch for?",
            "How would you optimize a PyTorch model for fast inference in production?",
        ),
        ("tensor", "autograd", "gradient", "dataloader", "epoch"),
    ),
    _tech(
        "pandas",
        ("panda",),
        "data",
        (
            "What is a DataFrame in pandas, and how do you select rows and columns from it?",
            "How do you find and handle missing values in pandas?",
        ),
        (
            "How does groupby work in pandas, and how would you compute several aggregates at "
            "once?",
            "Why is looping row by row slow in pandas, and what do you do instead?",
        ),
        (
            "How would you handle a dataset that is too large for pandas to hold in memory?",
            "How would you make an analysis in pandas reproducible and trustworthy for the rest "
            "of the team?",
        ),
        ("dataframe", "groupby"),
    ),
    _tech(
        "SQL",
        ("sql queries", "structured query language"),
        "data",
        (
            "In SQL, what is the difference between an inner join and a left join?",
            "What is the difference between WHERE and HAVING in SQL?",
        ),
        (
            "How would you write a SQL query that finds the top three orders for each customer?",
            "How do window functions work in SQL, and when have you used them?",
        ),
        (
            "How would you design a SQL schema for a product that needs both fast writes and "
            "complex reporting?",
            "How would you review SQL changes from a team to catch performance problems before "
            "they reach production?",
        ),
        ("inner join", "left join", "group by", "window function", "query", "queries"),
    ),
    # --- smaller entries: one question per tier ---------------------------------------
    _tech(
        "C",
        ("ansi c", "c99", "c11"),
        "embedded",
        ("In C, what is the difference between the stack and the heap?",),
        ("How do you avoid buffer overflows and memory leaks in C?",),
        (
            "How would you design the interface of a C module so it stays safe to use and easy "
            "to test?",
        ),
        ("malloc", "pointer", "struct"),
    ),
    _tech(
        "Azure",
        ("microsoft azure",),
        "devops",
        ("Which Azure services would you use to host a web application with a database, and why?",),
        (
            "How do managed identities work in Azure, and why are they better than stored "
            "credentials?",
        ),
        (
            "How would you design an Azure landing zone for several teams with clear security "
            "boundaries?",
        ),
    ),
    _tech(
        "GCP",
        ("google cloud", "google cloud platform"),
        "devops",
        ("Which GCP services would you pick to run a containerized web service, and why?",),
        ("How do service accounts and IAM permissions work in GCP?",),
        ("How would you design a data platform on GCP that balances cost, speed and governance?",),
        ("bigquery", "cloud run", "gke"),
    ),
    _tech(
        "Linux",
        ("unix", "ubuntu", "debian"),
        "devops",
        ("How would you find out which process uses the most memory or CPU on a Linux machine?",),
        ("How do file permissions work in Linux, and how do you change them safely?",),
        ("How would you troubleshoot a Linux server that suddenly becomes slow under load?",),
        ("kernel", "systemd", "bash"),
    ),
    _tech(
        "Git",
        ("github", "gitlab"),
        "generic",
        ("What is the difference between merge and rebase in Git?",),
        ("How would you recover a commit you accidentally lost in Git?",),
        (
            "Which Git branching and review workflow would you set up for a team that ships "
            "several times a day?",
        ),
        ("rebase", "pull request", "branch"),
    ),
    _tech(
        "HTML",
        ("html5",),
        "frontend",
        ("Why does semantic HTML matter, especially for accessibility?",),
        ("How do you build an accessible form in HTML, with labels, errors and keyboard support?",),
        (
            "How would you make sure the HTML across a large site stays accessible as many "
            "teams change it?",
        ),
        ("semantic html", "aria", "accessib"),
    ),
    _tech(
        "CSS",
        ("css3", "sass", "scss"),
        "frontend",
        ("How does the CSS box model work, and what does box-sizing change?",),
        ("When would you use flexbox versus grid in CSS?",),
        ("How would you keep CSS maintainable across a large application with many teams?",),
        ("flexbox", "grid", "selector", "specificity"),
    ),
    _tech(
        "Next.js",
        ("next", "nextjs", "next dot js"),
        "frontend",
        ("What is the difference between server-side rendering and static generation in Next.js?",),
        ("How do data fetching and caching work in Next.js?",),
        (
            "How would you structure a large Next.js application for performance and search "
            "engine visibility?",
        ),
    ),
    _tech(
        "Flutter",
        ("dart",),
        "mobile",
        ("What is the difference between a stateless and a stateful widget in Flutter?",),
        ("How do you manage state in a Flutter app as it grows?",),
        ("How would you keep a large Flutter app fast and consistent on both iOS and Android?",),
        ("widget", "dart"),
    ),
    _tech(
        "React Native",
        ("react-native", "reactnative"),
        "mobile",
        ("How does React Native render native views from JavaScript code?",),
        ("How would you debug a slow, janky list in React Native?",),
        ("When would you write a native module for React Native, and how would you maintain it?",),
        ("native module", "metro"),
    ),
    _tech(
        "Unity",
        ("unity3d", "unity engine"),
        "gamedev",
        ("What is a MonoBehaviour in Unity, and what are its main lifecycle methods?",),
        ("How do you find and fix frame rate drops in a Unity game?",),
        (
            "How would you structure a large Unity project so that designers and programmers "
            "can work in parallel?",
        ),
        ("monobehaviour", "prefab", "scene", "gameobject"),
    ),
    _tech(
        "Unreal Engine",
        ("unreal", "ue4", "ue5", "unreal engine 5"),
        "gamedev",
        ("In Unreal Engine, when would you use Blueprints versus C++?",),
        ("How does the actor and component model work in Unreal Engine?",),
        (
            "How would you profile and optimize a scene in Unreal Engine that misses its frame "
            "budget?",
        ),
        ("blueprint", "uobject"),
    ),
    _tech(
        "Selenium",
        ("selenium webdriver", "webdriver"),
        "qa",
        ("How do you locate elements reliably in Selenium tests?",),
        ("How do you deal with flaky Selenium tests caused by timing issues?",),
        ("How would you scale a Selenium test suite so it runs quickly across many browsers?",),
        ("locator", "webdriver"),
    ),
    _tech(
        "Playwright",
        (),
        "qa",
        ("How does Playwright wait for elements, and why does that reduce flaky tests?",),
        ("How would you structure Playwright tests with fixtures and page objects?",),
        (
            "How would you run Playwright tests in CI so they are fast and give useful failure "
            "reports?",
        ),
        ("locator", "fixture"),
    ),
    _tech(
        "Cypress",
        (),
        "qa",
        ("How does Cypress differ from Selenium in the way it runs tests?",),
        ("How do you stub network requests in Cypress, and when should you avoid it?",),
        ("How would you keep a large Cypress suite fast and reliable as the product grows?",),
        ("intercept", "fixture", "selector"),
    ),
    _tech(
        "Spark",
        ("apache spark", "pyspark"),
        "data",
        ("What is the difference between a transformation and an action in Spark?",),
        ("What causes data skew in Spark, and how would you fix it?",),
        (
            "How would you design a Spark pipeline that reliably processes terabytes of data "
            "every day?",
        ),
        ("partition", "shuffle", "rdd", "dataframe"),
    ),
    _tech(
        "scikit-learn",
        ("sklearn", "scikit learn"),
        "data",
        ("How do you split data and evaluate a model in scikit-learn?",),
        ("How do pipelines in scikit-learn help prevent data leakage?",),
        ("How would you take a scikit-learn model to production and monitor it over time?",),
        ("cross-validation", "estimator"),
    ),
    _tech(
        "NumPy",
        ("numpy arrays",),
        "data",
        ("What makes NumPy arrays faster than Python lists for numeric work?",),
        ("How does broadcasting work in NumPy?",),
        ("How would you speed up a NumPy computation that is too slow or uses too much memory?",),
        ("vectoriz", "broadcast"),
    ),
    _tech(
        "Ruby on Rails",
        ("rails", "ror", "ruby"),
        "backend",
        ("How does Active Record work in Ruby on Rails, and what are its trade-offs?",),
        ("How do you find and fix slow pages in a Ruby on Rails application?",),
        ("How would you break up a large Ruby on Rails monolith, if at all?",),
        ("active record", "gem"),
    ),
    _tech(
        "PHP",
        ("laravel", "symfony"),
        "backend",
        ("How does PHP handle a web request from start to finish?",),
        ("How do you prevent SQL injection and cross-site scripting in PHP?",),
        ("How would you modernize a large legacy PHP codebase safely?",),
        ("composer", "laravel"),
    ),
    _tech(
        "Jenkins",
        (),
        "devops",
        ("What is a Jenkins pipeline, and how do you define one in a Jenkinsfile?",),
        ("How would you speed up slow builds in Jenkins?",),
        ("How would you secure and scale Jenkins for an organization with many teams?",),
        ("jenkinsfile",),
    ),
    _tech(
        "Elasticsearch",
        ("elastic", "elastic search", "opensearch"),
        "backend",
        ("How does an inverted index in Elasticsearch make full-text search fast?",),
        ("How do shards and replicas work in Elasticsearch?",),
        ("How would you handle mapping changes and reindexing in Elasticsearch without downtime?",),
        ("shard", "inverted index", "reindex"),
    ),
    _tech(
        "RabbitMQ",
        ("rabbit", "rabbit mq"),
        "backend",
        ("What are exchanges and queues in RabbitMQ, and how are messages routed?",),
        ("How do acknowledgements and dead-letter queues work in RabbitMQ?",),
        ("How would you design a RabbitMQ setup that never loses important messages?",),
        ("dead-letter", "dead letter", "amqp"),
    ),
    _tech(
        "Ansible",
        (),
        "devops",
        ("What is an Ansible playbook, and what does idempotent mean in that context?",),
        ("How do you organize Ansible roles and inventories for different environments?",),
        ("How would you manage secrets and large fleets of servers with Ansible?",),
        ("playbook", "idempotent"),
    ),
    _tech(
        "REST",
        ("rest api", "rest apis", "restful", "restful apis"),
        "backend",
        ("What makes an API RESTful, and how do HTTP methods map to actions in a REST design?",),
        ("How would you version a REST API and handle breaking changes?",),
        ("How would you design REST conventions that dozens of teams follow consistently?",),
        ("endpoint", "status code"),
    ),
    _tech(
        "Microservices",
        ("microservice", "micro services"),
        "backend",
        ("What are microservices, and how do they differ from a single monolithic application?",),
        ("How do microservices find and call each other, and what happens when one is down?",),
        (
            "When would you advise against microservices, and how would you move back toward a "
            "monolith if needed?",
        ),
        ("monolith", "circuit breaker"),
    ),
    _tech(
        "Machine Learning",
        ("ml", "machine-learning"),
        "data",
        ("What is the difference between a training set and a test set in machine learning?",),
        ("How do you choose a baseline for a machine learning project, and why does it matter?",),
        ("How would you organize a machine learning team's path from experiment to production?",),
        ("overfit", "training data", "classifier"),
    ),
)

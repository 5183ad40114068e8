"""Hand-written word lists and picklist values behind ``mockcrm.fakedata``.

Everything is a tuple built once at import: generating a record only indexes into these, so a
million records never rebuild a table. Picklist values are the real defaults of a new HubSpot
portal and a default Salesforce org, so generated records pass the mocks' validation; the servers
may import these tuples to define the same options.
"""

from __future__ import annotations

FIRST_NAMES: tuple[str, ...] = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
    "Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony", "Margaret", "Mark", "Sandra",
    "Donald", "Ashley", "Steven", "Kimberly", "Paul", "Emily", "Andrew", "Donna", "Joshua", "Michelle",
    "Kenneth", "Carol", "Kevin", "Amanda", "Brian", "Dorothy", "George", "Melissa", "Timothy", "Deborah",
    "Ronald", "Stephanie", "Edward", "Rebecca", "Jason", "Sharon", "Jeffrey", "Laura", "Ryan", "Cynthia",
    "Jacob", "Kathleen", "Gary", "Amy", "Nicholas", "Angela", "Eric", "Shirley", "Jonathan", "Anna",
    "Stephen", "Brenda", "Larry", "Pamela", "Justin", "Emma", "Scott", "Nicole", "Brandon", "Helen",
    "Benjamin", "Samantha", "Samuel", "Katherine", "Gregory", "Christine", "Alexander", "Debra", "Frank",
    "Rachel", "Patrick", "Carolyn", "Raymond", "Janet", "Jack", "Catherine", "Dennis", "Maria", "Jerry",
    "Heather", "Tyler", "Diane", "Aaron", "Ruth", "Jose", "Julie", "Adam", "Olivia", "Nathan", "Joyce",
    "Henry", "Virginia", "Douglas", "Victoria", "Zachary", "Kelly", "Peter", "Lauren", "Kyle", "Christina",
    "Ethan", "Joan", "Walter", "Evelyn", "Noah", "Judith", "Jeremy", "Megan", "Christian", "Andrea",
    "Keith", "Cheryl", "Roger", "Hannah", "Terry", "Jacqueline", "Gerald", "Martha", "Harold", "Gloria",
    "Sean", "Teresa", "Austin", "Ann", "Carl", "Sara", "Arthur", "Madison", "Lawrence", "Frances",
    "Dylan", "Kathryn", "Jesse", "Janice", "Jordan", "Jean", "Bryan", "Abigail", "Billy", "Alice",
    "Joe", "Julia", "Bruce", "Judy", "Gabriel", "Sophia", "Logan", "Grace", "Albert", "Denise",
    "Willie", "Amber", "Alan", "Doris", "Juan", "Marilyn", "Wayne", "Danielle", "Elijah", "Beverly",
    "Randy", "Isabella", "Roy", "Theresa", "Vincent", "Diana", "Ralph", "Natalie", "Eugene", "Brittany",
    "Russell", "Charlotte", "Bobby", "Marie", "Mason", "Kayla", "Philip", "Alexis", "Louis", "Lori",
    "Priya", "Wei", "Aisha", "Hiroshi", "Fatima", "Mateo", "Ingrid", "Dmitri", "Chloé", "José",
    "Søren", "Zoë", "Björn", "Anaïs", "Siobhán", "Raúl", "Mónica", "Jürgen", "Élodie", "Nuño",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
    "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
    "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes",
    "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper",
    "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson",
    "Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes",
    "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez",
    "Powell", "Jenkins", "Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler", "Henderson", "Barnes",
    "Gonzales", "Fisher", "Vasquez", "Simmons", "Romero", "Jordan", "Patterson", "Alexander", "Hamilton",
    "Graham", "Reynolds", "Griffin", "Wallace", "Moreno", "West", "Cole", "Hayes", "Bryant", "Herrera",
    "Gibson", "Ellis", "Tran", "Medina", "Aguilar", "Stevens", "Murray", "Ford", "Castro", "Marshall",
    "Owens", "Harrison", "Fernandez", "McDonald", "Woods", "Washington", "Kennedy", "Wells", "Vargas",
    "Henry", "Chen", "Freeman", "Webb", "Tucker", "Guzman", "Burns", "Crawford", "Olson", "Simpson",
    "Porter", "Hunter", "Gordon", "Mendez", "Silva", "Shaw", "Snyder", "Mason", "Dixon", "Munoz",
    "Hunt", "Hicks", "Holmes", "Palmer", "Wagner", "Black", "Robertson", "Boyd", "Rose", "Stone",
    "Salazar", "Fox", "Warren", "Mills", "Meyer", "Rice", "Schmidt", "Garza", "Daniels", "Ferguson",
    "O'Brien", "O'Connor", "McAllister", "Van der Berg", "Müller", "Schäfer", "Østergaard", "Nakamura",
    "Yamamoto", "Kowalski", "Novák", "Dubois", "Rossi", "Fitzgerald", "Al-Sayed", "Okafor", "Haddad",
)  # fmt: skip

SALUTATIONS: tuple[str, ...] = ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")

# Company names are built from two parts plus a legal suffix, e.g. "Blue Harbor Logistics Inc."
COMPANY_PREFIXES: tuple[str, ...] = (
    "Acme", "Blue Harbor", "Northwind", "Summit", "Pioneer", "Redwood", "Silver Lake", "Granite", "Bright",
    "Cobalt", "Evergreen", "Lakeside", "Ironbridge", "Golden Gate", "Maple", "Crescent", "Orchid",
    "Harborview", "Keystone", "Riverbend", "Skyline", "Tidewater", "Westfield", "Arrowhead", "Beacon",
    "Cedar", "Falcon", "Juniper", "Liberty", "Meridian", "Nimbus", "Oakridge", "Polaris", "Quantum",
    "Sterling", "Trident", "Vertex", "Willow", "Zenith", "Atlas", "Bluebird", "Copper", "Delta",
    "Horizon", "Insight", "Lighthouse", "Monarch", "Northstar", "Pinnacle", "Sapphire",
)  # fmt: skip
COMPANY_CORES: tuple[str, ...] = (
    "Analytics", "Logistics", "Software", "Systems", "Health", "Foods", "Energy", "Capital", "Robotics",
    "Media", "Labs", "Networks", "Consulting", "Manufacturing", "Biotech", "Outfitters", "Freight",
    "Data", "Security", "Partners", "Solutions", "Dynamics", "Industries", "Ventures", "Designs",
    "Pharma", "Telecom", "Apparel", "Construction", "Insurance",
)  # fmt: skip
COMPANY_SUFFIXES: tuple[str, ...] = ("Inc.", "LLC", "Ltd.", "Corp.", "Co.", "Group", "GmbH", "")
TLDS: tuple[str, ...] = (".com", ".com", ".com", ".io", ".net", ".co")

JOB_TITLES: tuple[str, ...] = (
    "Chief Executive Officer", "Chief Technology Officer", "Chief Financial Officer", "VP of Sales",
    "VP of Marketing", "Director of Operations", "Head of Customer Success", "Account Executive",
    "Sales Development Representative", "Marketing Manager", "Product Manager", "Software Engineer",
    "Senior Software Engineer", "Data Analyst", "Operations Manager", "Office Manager", "Controller",
    "Procurement Specialist", "IT Manager", "RevOps Manager", "Customer Support Lead", "Recruiter",
    "Business Analyst", "Project Manager", "Solutions Architect", "Consultant", "Purchasing Manager",
    "HR Director", "General Counsel", "Founder",
)  # fmt: skip
DEPARTMENTS: tuple[str, ...] = (
    "Sales", "Marketing", "Engineering", "Finance", "Operations", "Customer Success", "IT", "Legal",
    "Human Resources", "Procurement", "Product", "Executive",
)  # fmt: skip

STREET_NAMES: tuple[str, ...] = (
    "Main", "Oak", "Pine", "Maple", "Cedar", "Elm", "Washington", "Lake", "Hill", "Park", "Sunset",
    "Market", "Broadway", "Church", "Highland", "Jefferson", "Lincoln", "Madison", "Franklin", "River",
    "Spring", "Mill", "Center", "Union", "Walnut", "Chestnut", "Forest", "Meadow", "Harbor", "Valley",
)  # fmt: skip
STREET_KINDS: tuple[str, ...] = ("St", "Ave", "Blvd", "Rd", "Ln", "Dr", "Way", "Ct", "Pl", "Pkwy")

# (city, state or province, country, postal-code style). States and countries are the full names
# Salesforce's state and country picklists accept (only countries the Salesforce mock lists);
# "" means no state, as for countries without a state picklist.
US = "United States"
LOCATIONS: tuple[tuple[str, str, str, str], ...] = (
    ("New York", "New York", US, "us"), ("Buffalo", "New York", US, "us"),
    ("Los Angeles", "California", US, "us"), ("San Francisco", "California", US, "us"),
    ("San Diego", "California", US, "us"), ("San Jose", "California", US, "us"),
    ("Chicago", "Illinois", US, "us"), ("Houston", "Texas", US, "us"), ("Austin", "Texas", US, "us"),
    ("Dallas", "Texas", US, "us"), ("Phoenix", "Arizona", US, "us"),
    ("Philadelphia", "Pennsylvania", US, "us"), ("Pittsburgh", "Pennsylvania", US, "us"),
    ("Seattle", "Washington", US, "us"), ("Denver", "Colorado", US, "us"),
    ("Boston", "Massachusetts", US, "us"), ("Cambridge", "Massachusetts", US, "us"),
    ("Atlanta", "Georgia", US, "us"), ("Miami", "Florida", US, "us"), ("Orlando", "Florida", US, "us"),
    ("Tampa", "Florida", US, "us"), ("Portland", "Oregon", US, "us"), ("Nashville", "Tennessee", US, "us"),
    ("Charlotte", "North Carolina", US, "us"), ("Raleigh", "North Carolina", US, "us"),
    ("Columbus", "Ohio", US, "us"), ("Cleveland", "Ohio", US, "us"), ("Detroit", "Michigan", US, "us"),
    ("Minneapolis", "Minnesota", US, "us"), ("St. Louis", "Missouri", US, "us"),
    ("Kansas City", "Missouri", US, "us"), ("Salt Lake City", "Utah", US, "us"),
    ("Las Vegas", "Nevada", US, "us"), ("Baltimore", "Maryland", US, "us"),
    ("Richmond", "Virginia", US, "us"),
    ("Milwaukee", "Wisconsin", US, "us"), ("Indianapolis", "Indiana", US, "us"),
    ("New Orleans", "Louisiana", US, "us"), ("Newark", "New Jersey", US, "us"),
    ("Hartford", "Connecticut", US, "us"), ("Providence", "Rhode Island", US, "us"),
    ("Boise", "Idaho", US, "us"), ("Albuquerque", "New Mexico", US, "us"), ("Omaha", "Nebraska", US, "us"),
    ("Honolulu", "Hawaii", US, "us"), ("Anchorage", "Alaska", US, "us"), ("Burlington", "Vermont", US, "us"),
    ("Toronto", "Ontario", "Canada", "ca"), ("Ottawa", "Ontario", "Canada", "ca"),
    ("Vancouver", "British Columbia", "Canada", "ca"), ("Montreal", "Quebec", "Canada", "ca"),
    ("Calgary", "Alberta", "Canada", "ca"),
    ("Sydney", "New South Wales", "Australia", "au"), ("Melbourne", "Victoria", "Australia", "au"),
    ("Mexico City", "", "Mexico", "mx"), ("Guadalajara", "", "Mexico", "mx"),
    ("London", "", "United Kingdom", "uk"), ("Manchester", "", "United Kingdom", "uk"),
    ("Dublin", "", "Ireland", "eu"), ("Berlin", "", "Germany", "eu"), ("Munich", "", "Germany", "eu"),
    ("Paris", "", "France", "eu"), ("Lyon", "", "France", "eu"), ("Amsterdam", "", "Netherlands", "eu"),
    ("Madrid", "", "Spain", "eu"), ("Barcelona", "", "Spain", "eu"), ("Milan", "", "Italy", "eu"),
    ("Stockholm", "", "Sweden", "eu"), ("Auckland", "", "New Zealand", "au"),
    ("Zurich", "", "Switzerland", "eu"),
    ("Osaka", "", "Japan", "eu"), ("Hamburg", "", "Germany", "eu"), ("Mumbai", "", "India", "eu"),
    ("Tokyo", "", "Japan", "eu"), ("Bangalore", "", "India", "eu"), ("São Paulo", "", "Brazil", "eu"),
)  # fmt: skip

# --- HubSpot enumeration options (internal values) -------------------------------------------------
HS_LIFECYCLE_STAGES: tuple[str, ...] = (
    "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
    "evangelist", "other",
)  # fmt: skip
HS_LEAD_STATUSES: tuple[str, ...] = (
    "NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "ATTEMPTED_TO_CONTACT", "CONNECTED",
    "BAD_TIMING",
)  # fmt: skip
HS_COMPANY_TYPES: tuple[str, ...] = ("PROSPECT", "PARTNER", "RESELLER", "VENDOR", "OTHER")
HS_INDUSTRIES: tuple[str, ...] = (
    "ACCOUNTING", "AIRLINES_AVIATION", "APPAREL_FASHION", "BANKING", "BIOTECHNOLOGY", "CHEMICALS",
    "COMPUTER_SOFTWARE", "CONSTRUCTION", "CONSUMER_GOODS", "EDUCATION_MANAGEMENT", "FINANCIAL_SERVICES",
    "FOOD_BEVERAGES", "HOSPITAL_HEALTH_CARE", "INFORMATION_TECHNOLOGY_AND_SERVICES", "INSURANCE",
    "LOGISTICS_AND_SUPPLY_CHAIN", "MANAGEMENT_CONSULTING", "MARKETING_AND_ADVERTISING", "MEDIA_PRODUCTION",
    "OIL_ENERGY", "PHARMACEUTICALS", "REAL_ESTATE", "RETAIL", "TELECOMMUNICATIONS", "UTILITIES",
)  # fmt: skip
HS_DEAL_STAGES: tuple[str, ...] = (
    "appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin",
    "contractsent", "closedwon", "closedlost",
)  # fmt: skip
HS_DEAL_TYPES: tuple[str, ...] = ("newbusiness", "existingbusiness")
HS_TICKET_STAGES: tuple[str, ...] = ("1", "2", "3", "4")
HS_TICKET_PRIORITIES: tuple[str, ...] = ("LOW", "MEDIUM", "HIGH")
HS_TICKET_CATEGORIES: tuple[str, ...] = (
    "PRODUCT_ISSUE",
    "BILLING_ISSUE",
    "FEATURE_REQUEST",
    "GENERAL_INQUIRY",
)
HS_TASK_STATUSES: tuple[str, ...] = ("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED")
HS_TASK_PRIORITIES: tuple[str, ...] = ("NONE", "LOW", "MEDIUM", "HIGH")
HS_TASK_TYPES: tuple[str, ...] = ("TODO", "CALL", "EMAIL")
HS_CALL_DIRECTIONS: tuple[str, ...] = ("INBOUND", "OUTBOUND")
HS_CALL_STATUSES: tuple[str, ...] = ("COMPLETED", "BUSY", "NO_ANSWER", "FAILED", "CANCELED")
HS_EMAIL_DIRECTIONS: tuple[str, ...] = ("EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL")
HS_EMAIL_STATUSES: tuple[str, ...] = ("SENT", "BOUNCED", "FAILED", "SCHEDULED", "SENDING")
HS_MEETING_OUTCOMES: tuple[str, ...] = ("SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW", "CANCELED")

# --- Salesforce picklist values (default org) ------------------------------------------------------
SF_LEAD_SOURCES: tuple[str, ...] = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
SF_INDUSTRIES: tuple[str, ...] = (
    "Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications", "Construction",
    "Consulting", "Education", "Electronics", "Energy", "Engineering", "Entertainment", "Environmental",
    "Finance", "Food & Beverage", "Government", "Healthcare", "Hospitality", "Insurance", "Machinery",
    "Manufacturing", "Media", "Not For Profit", "Recreation", "Retail", "Shipping", "Technology",
    "Telecommunications", "Transportation", "Utilities", "Other",
)  # fmt: skip
SF_ACCOUNT_TYPES: tuple[str, ...] = (
    "Prospect", "Customer - Direct", "Customer - Channel", "Channel Partner / Reseller",
    "Installation Partner", "Technology Partner", "Other",
)  # fmt: skip
# "Closed - Converted" is left out on purpose: only lead conversion may set it.
SF_LEAD_STATUSES: tuple[str, ...] = ("Open - Not Contacted", "Working - Contacted", "Closed - Not Converted")
SF_LEAD_RATINGS: tuple[str, ...] = ("Hot", "Warm", "Cold")
SF_OPPORTUNITY_STAGES: tuple[str, ...] = (
    "Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
    "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost",
)  # fmt: skip
SF_OPPORTUNITY_TYPES: tuple[str, ...] = (
    "Existing Customer - Upgrade", "Existing Customer - Replacement", "Existing Customer - Downgrade",
    "New Customer",
)  # fmt: skip
SF_CASE_STATUSES: tuple[str, ...] = ("New", "Working", "Escalated", "Closed")
SF_CASE_PRIORITIES: tuple[str, ...] = ("High", "Medium", "Low")
SF_CASE_ORIGINS: tuple[str, ...] = ("Phone", "Email", "Web")
SF_CASE_TYPES: tuple[str, ...] = ("Mechanical", "Electrical", "Electronic", "Structural", "Other")
SF_CASE_REASONS: tuple[str, ...] = (
    "Installation", "Equipment Complexity", "Performance", "Breakdown", "Equipment Design", "Feedback",
    "Other",
)  # fmt: skip
SF_TASK_STATUSES: tuple[str, ...] = (
    "Not Started",
    "In Progress",
    "Completed",
    "Waiting on someone else",
    "Deferred",
)
SF_TASK_PRIORITIES: tuple[str, ...] = ("High", "Normal", "Low")
SF_TASK_TYPES: tuple[str, ...] = ("Call", "Email", "Meeting", "Other")
SF_CALL_TYPES: tuple[str, ...] = ("Internal", "Inbound", "Outbound")
SF_EVENT_TYPES: tuple[str, ...] = ("Call", "Email", "Meeting", "Other")
SF_CAMPAIGN_STATUSES: tuple[str, ...] = ("Planned", "In Progress", "Completed", "Aborted")
SF_CAMPAIGN_TYPES: tuple[str, ...] = (
    "Conference", "Webinar", "Trade Show", "Public Relations", "Partners", "Referral Program",
    "Advertisement", "Banner Ads", "Direct Mail", "Email", "Telemarketing", "Other",
)  # fmt: skip
SF_CAMPAIGN_MEMBER_STATUSES: tuple[str, ...] = ("Sent", "Responded")
SF_CONTACT_ROLES: tuple[str, ...] = (
    "Business User", "Decision Maker", "Economic Buyer", "Economic Decision Maker", "Evaluator",
    "Executive Sponsor", "Influencer", "Technical Buyer", "Other",
)  # fmt: skip

# --- Free text -------------------------------------------------------------------------------------
PRODUCTS: tuple[str, ...] = (
    "Platform Licence", "Enterprise Plan", "Analytics Add-on", "Support Renewal", "Onboarding Package",
    "Data Migration", "Premium Support", "Team Seats", "API Access", "Training Workshop",
)  # fmt: skip
ACTIVITY_SUBJECTS: tuple[str, ...] = (
    "Follow up on proposal", "Intro call", "Send pricing", "Quarterly business review", "Demo follow-up",
    "Contract questions", "Renewal discussion", "Check in after onboarding", "Share case study",
    "Schedule technical deep dive", "Confirm budget", "Review security questionnaire", "Kick-off meeting",
    "Discuss expansion", "Collect feedback",
)  # fmt: skip
TICKET_SUBJECTS: tuple[str, ...] = (
    "Cannot log in", "Invoice shows wrong amount", "Export to CSV fails", "Feature request: dark mode",
    "Sync is delayed", "Password reset email not received", "API returns 500", "How do I add a user?",
    "Dashboard loads slowly", "Duplicate records after import", "Billing address change",
    "Integration disconnected", "Report totals look wrong", "Need SSO setup help", "Mobile app crashes",
)  # fmt: skip
SENTENCES: tuple[str, ...] = (
    "Customer asked for an updated quote before the end of the quarter.",
    "They are comparing us with two other vendors.",
    "Budget is approved; legal review is the next step.",
    "Left a voicemail and sent a follow-up email.",
    "The team wants a sandbox to trial the integration.",
    "Main concern is data residency in the EU.",
    "Procurement needs the security questionnaire completed.",
    "Champion is moving to a new role next month.",
    "Agreed to reconvene after their board meeting.",
    "Reported the issue happens only in Safari.",
    "Workaround shared; engineering is investigating.",
    "Requested a discount for a three-year term.",
    "Onboarding went well; usage is growing weekly.",
    "Needs an invoice in EUR instead of USD.",
    "Asked about the roadmap for reporting features.",
)

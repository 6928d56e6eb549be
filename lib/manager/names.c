/* Random container names, "adjective_surname" like podman and docker (names from docker's
 * namesgenerator: notable scientists and hackers). */
#include "manager/names.h"

#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "util/strutil.h"

#define N_ELEMS(a) (sizeof (a) / sizeof ((a)[0]))

static const char *const adjectives[] = {
  "admiring",  "adoring",     "affectionate", "agitated",  "amazing",   "angry",     "awesome",   "beautiful",
  "blissful",  "bold",        "boring",       "brave",     "busy",      "charming",  "clever",    "compassionate",
  "competent", "condescending", "confident",  "cool",      "cranky",    "crazy",     "dazzling",  "determined",
  "distracted", "dreamy",     "eager",        "ecstatic",  "elastic",   "elated",    "elegant",   "eloquent",
  "epic",      "exciting",    "fervent",      "festive",   "flamboyant", "focused",  "friendly",  "frosty",
  "funny",     "gallant",     "gifted",       "goofy",     "gracious",  "great",     "happy",     "hardcore",
  "heuristic", "hopeful",     "hungry",       "infallible", "inspiring", "intelligent", "jolly",  "jovial",
  "keen",      "kind",        "laughing",     "loving",    "lucid",     "magical",   "modest",    "musing",
  "mystifying", "naughty",    "nervous",      "nice",      "nifty",     "nostalgic", "objective", "optimistic",
  "peaceful",  "pedantic",    "pensive",      "practical", "priceless", "quirky",    "quizzical", "recursing",
  "relaxed",   "reverent",    "romantic",     "sad",       "serene",    "sharp",     "silly",     "sleepy",
  "stoic",     "strange",     "stupefied",    "suspicious", "sweet",    "tender",    "thirsty",   "trusting",
  "unruffled", "upbeat",      "vibrant",      "vigilant",  "vigorous",  "wizardly",  "wonderful", "xenodochial",
  "youthful",  "zealous",     "zen",
};

static const char *const surnames[] = {
  "agnesi",    "albattani",  "allen",      "archimedes", "ardinghelli", "aryabhata", "babbage",  "banach",
  "bardeen",   "bartik",     "bassi",      "bell",       "bhabha",    "blackwell",   "bohr",      "booth",
  "borg",      "bose",       "brahmagupta", "brattain",  "brown",     "carson",      "cerf",      "chandrasekhar",
  "chatelet",  "chebyshev",  "curie",      "darwin",     "diffie",    "dijkstra",    "dirac",     "driscoll",
  "dubinsky",  "easley",     "einstein",   "elgamal",    "elion",     "engelbart",   "euclid",    "euler",
  "fermat",    "fermi",      "feynman",    "franklin",   "gagarin",   "galileo",     "gates",     "gauss",
  "goldberg",  "goldstine",  "goldwasser", "goodall",    "hamilton",  "haslett",     "hawking",   "heisenberg",
  "hellman",   "hermann",    "hertz",      "hodgkin",    "hopper",    "hugle",       "hypatia",   "jackson",
  "jang",      "jennings",   "jepsen",     "johnson",    "joliot",    "jones",       "kalam",     "kapitsa",
  "kare",      "keldysh",    "keller",     "kepler",     "khorana",   "kilby",       "kirch",     "knuth",
  "kowalevski", "lalande",   "lamarr",     "lamport",    "leakey",    "leavitt",     "lederberg", "lehmann",
  "lewin",     "lichterman", "liskov",     "lovelace",   "lumiere",   "mahavira",    "margulis",  "matsumoto",
  "maxwell",   "mayer",      "mccarthy",   "mcclintock", "mclaren",   "mclean",      "meitner",   "mendel",
  "merkle",    "mirzakhani", "montalcini", "moore",      "morse",     "moser",       "napier",    "nash",
  "neumann",   "newton",     "nobel",      "noether",    "northcutt", "noyce",       "panini",    "pare",
  "pascal",    "pasteur",    "payne",      "perlman",    "pike",      "poincare",    "poitras",   "ptolemy",
  "raman",     "ramanujan",  "ride",       "ritchie",    "rhodes",    "robinson",    "roentgen",  "rosalind",
  "rubin",     "saha",       "sammet",     "sanderson",  "satoshi",   "shamir",      "shannon",   "shaw",
  "shirley",   "shockley",   "sinoussi",   "snyder",     "solomon",   "spence",      "stonebraker", "sutherland",
  "swanson",   "swartz",     "swirles",    "taussig",    "tesla",     "tharp",       "thompson",  "torvalds",
  "tu",        "turing",     "varahamihira", "vaughan",  "villani",   "visvesvaraya", "volhard",  "wescoff",
  "wilbur",    "wiles",      "williams",   "williamson", "wilson",    "wing",        "wozniak",   "wright",
  "wu",        "yalow",      "yonath",     "zhukovsky",
};

static uint32_t
random_u32 (void)
{
  uint32_t v;

  if (getrandom (&v, sizeof (v), GRND_NONBLOCK) == (ssize_t) sizeof (v))
    return v;
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint32_t) ts.tv_nsec ^ ((uint32_t) ts.tv_sec << 7) ^ (uint32_t) getpid ();
}

char *
nook_ctr_name_random (unsigned attempt)
{
  for (;;)
    {
      const char *a = adjectives[random_u32 () % N_ELEMS (adjectives)];
      const char *b = surnames[random_u32 () % N_ELEMS (surnames)];

      /* Steve Wozniak is not boring (docker's rule). */
      if (strcmp (a, "boring") == 0 && strcmp (b, "wozniak") == 0)
        continue;
      if (attempt >= 10)
        return xasprintf ("%s_%s%u", a, b, random_u32 () % 10);
      return xasprintf ("%s_%s", a, b);
    }
}

unsigned
nook_ctr_name_space (void)
{
  return (unsigned) (N_ELEMS (adjectives) * N_ELEMS (surnames));
}

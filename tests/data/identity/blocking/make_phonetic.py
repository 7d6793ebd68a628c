"""Reference phonetic codes from jellyfish 1.3 (its Rust core, `_rustyfish`).

Run: /tmp/acrm-pyenv/bin/python make_phonetic.py  -> phonetic.csv (name,soundex,metaphone,nysiis)
Names: common first names and surnames, seeded perturbations of them, seeded random
syllable strings stressing the rules' special letter groups, and a few multi-word names.
"""
import csv
import random

import jellyfish

BASE = """smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez
gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez
clark ramirez lewis robinson walker young allen king wright scott torres nguyen hill flores green
adams nelson baker hall rivera campbell mitchell carter roberts gomez phillips evans turner diaz
parker cruz edwards collins reyes stewart morris morales murphy cook rogers gutierrez ortiz morgan
cooper peterson bailey reed kelly howard ramos kim cox ward richardson watson brooks chavez wood
james bennett gray mendoza ruiz hughes price alvarez castillo sanders patel myers long ross foster
jimenez powell jenkins perry russell sullivan bell coleman butler henderson barnes gonzales fisher
vasquez simmons romero jordan patterson alexander hamilton graham reynolds griffin wallace moreno
west cole hayes bryant herrera gibson ellis tran medina aguilar stevens murray ford castro marshall
owens harrison fernandez mcdonald woods washington kennedy wells vargas henry chen freeman webb
tucker guzman burns crawford olson simpson porter hunter gordon mendez silva shaw snyder mason dixon
munoz hunt hicks holmes palmer wagner black robertson boyd rose stone salazar fox warren mills meyer
rice schmidt garza daniels ferguson nichols stephens soto weaver ryan gardner payne grant dunn kelley
spencer hawkins arnold pierce vazquez hansen peters santos hart bradley knight elliott cunningham
duncan armstrong hudson carroll lane riley andrews alvarado ray delgado berry perkins hoffman johnston
matthews pena richards contreras willis carpenter lawrence sandoval guerrero george chapman rios
estrada ortega watkins greene nunez wheeler valdez harper burke larson santiago maldonado morrison
franklin carlson austin dominguez carr lawson jacobs obrien lynch singh vega bishop montgomery oliver
jensen harvey williamson gilbert dean sims espinoza howell li wong reid hanson le mccoy garrett burton
fuller wang weber welch rojas lucas marquez fields park yang little banks padilla day walsh bowman
schultz luna fowler mejia davidson acosta brewer may holland juarez newman pearson curtis cortez
douglas schneider joseph barrett navarro figueroa keller avila wade molina stanley hopkins campos
barnett bates chambers caldwell beck lambert miranda byrd craig ayala lowe frazier powers neal leonard
gregory carrillo sutton fleming rhodes shelton schwartz norris jennings watts duran walters cohen
mcdaniel moran parks steele vaughn becker holt deleon barker terry hale leon hail benson haynes horton
miles lyons pham graves bush thornton wolfe warner cabrera mckinney mann zimmerman dawson lara fletcher
page mccarthy love robles cervantes solis erickson reeves chang klein salinas fuentes baldwin daniel
simon velasquez hardy higgins aguirre lin cummings chandler sharp barber bowen ochoa dennis robbins
liu ramsey francis griffith paul blair oconnor cardenas pacheco cross calderon quinn moss swanson
chan rivas khan rodgers serrano fitzgerald rosales stevenson christensen manning gill curry mclaughlin
harmon mcgee gross doyle garner newton burgess reese walton blake trujillo adkins brady goodman roman
webster goodwin fischer huang potter delacruz montoya todd wu hines mullins castaneda malone cannon
tate mack sherman hubbard hodges zhang guerra wolf valencia saunders franco rowe gallagher farmer
hammond hampton townsend ingram wise gallegos clarke barton schroeder maxwell waters logan camacho
strickland norman person colon parsons frank harrington glover osborne buchanan casey floyd patton
ibarra ball tyler suarez bowers orozco salas cobb gibbs andrade bauer conner moody escobar mcguire
lloyd mueller hartman french kramer mcbride pope lindsey velazquez norton mccormick sparks flynn yates
hogan marsh macias villanueva zamora pratt stokes owen ballard lang brock villarreal charles drake
barrera cain patrick pineda burnett mercado santana shepherd bautista ali shaffer lamb trevino mckenzie
hess beil olsen cochran morton nash wilkins petersen briggs shah roth nicholson holloway lozano
mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty margaret
sandra ashley kimberly emily donna michelle carol amanda dorothy melissa deborah stephanie rebecca
sharon laura cynthia kathleen amy angela shirley anna brenda pamela emma nicole helen samantha
katherine christine debra rachel carolyn janet catherine maria heather diane ruth julie olivia joyce
virginia victoria kelly lauren christina joan evelyn judith megan andrea cheryl hannah jacqueline
martha gloria teresa ann sara madison frances kathryn janice jean abigail alice judy sophia grace
denise amber doris marilyn danielle beverly isabella theresa diana natalie brittany charlotte marie
kayla alexis lori james robert john michael david william richard joseph thomas christopher charles
daniel matthew anthony mark donald steven andrew paul joshua kenneth kevin brian george timothy ronald
jason edward jeffrey ryan jacob gary nicholas eric jonathan stephen larry justin scott brandon
benjamin samuel gregory alexander patrick frank raymond jack dennis jerry tyler aaron jose adam nathan
henry zachary douglas peter kyle noah ethan jeremy walter christian keith roger terry austin sean
gerald carl harold dylan arthur lawrence jordan jesse bryan billy bruce gabriel joe logan alan juan
albert willie elijah wayne randy vincent mason roy ralph bobby russell bradley philip eugene
knight gnome pneumonia wright aegis schaefer macdonald mcknight phelps pfeiffer knuth schmitt
thigh xavier xiong xenia whitaker wheeler chloe chiara cione ciaran cecilia dodge edgar judge
sugden ghent hugh gnat sign signal campbell thompson tiara nation station mission sioux ashton
vaughn yvonne zoe zachariah quentin quincy lloyd llewellyn dwight dwyer evan eve stevens kevin
""".split()

SYLL = ["a", "e", "i", "o", "u", "y", "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n",
        "p", "q", "r", "s", "t", "v", "w", "x", "z", "ch", "sh", "th", "ph", "gh", "kn", "gn",
        "pn", "wr", "ae", "sch", "mac", "tio", "tia", "sio", "sia", "cia", "dge", "dgi", "dgy",
        "ck", "wh", "ev", "ie", "ee", "dt", "rt", "rd", "nt", "nd", "ci", "ce", "cy", "gi",
        "ge", "gy", "mb", "ss", "cc", "ll", "tch", "gha", "ghi", "ah", "eh", "aw", "ew", "xh"]


def perturb(rng, s):
    k = rng.randrange(4)
    i = rng.randrange(len(s))
    letters = "abcdefghijklmnopqrstuvwxyz"
    if k == 0:
        return s[:i] + rng.choice(letters) + s[i + 1:]
    if k == 1 and len(s) > 1:
        return s[:i] + s[i + 1:]
    if k == 2:
        return s[:i] + rng.choice(letters) + s[i:]
    if i + 1 < len(s):
        return s[:i] + s[i + 1] + s[i] + s[i + 2:]
    return s + s[-1]


def main():
    rng = random.Random(20261206)
    names = list(dict.fromkeys(BASE))
    for _ in range(2500):
        names.append(perturb(rng, rng.choice(BASE)))
    for _ in range(2500):
        names.append("".join(rng.choice(SYLL) for _ in range(rng.randint(1, 5))))
    for _ in range(300):
        names.append(rng.choice(BASE) + " " + rng.choice(BASE))
    names += ["a", "e", "h", "w", "x", "s", "b", "z", "mb", "ss", "ie", "ee", "aa", "hh", "ww",
              "kn", "k", "ph", "mac", "sch", "van der berg", "o neil", "de la cruz"]
    seen = set()
    with open("phonetic.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["name", "soundex", "metaphone", "nysiis"])
        for n in names:
            if n in seen:
                continue
            seen.add(n)
            w.writerow([n, jellyfish.soundex(n), jellyfish.metaphone(n), jellyfish.nysiis(n)])
    print(len(seen), "names")


if __name__ == "__main__":
    main()

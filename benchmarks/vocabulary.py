"""The words the generated records and source texts are made of: names, roles, places, months and sanctions, in
English, Russian and Ukrainian (every Cyrillic word in one alphabet, so that no mixed-script rule fires)."""

from __future__ import annotations

from typing import NamedTuple


class FirstName(NamedTuple):
    ru: str
    ru_instr: str
    uk: str
    uk_instr: str
    en: str


class Role(NamedTuple):
    en: str
    ru: str
    uk: str


class Place(NamedTuple):
    en: str
    country: str
    ru_prep: str  # "в Минске"
    uk_prep: str  # "у Мінську"


class Target(NamedTuple):
    en: str
    ru_gen: str  # "санкции против «Белавиа»"
    sector: str


class Release(NamedTuple):
    nationalities: tuple[str, ...]
    ru_gen: str  # "граждане Литвы и Польши"
    destination: str
    ru_acc: str  # "направлена в Литву"


class Unnamed(NamedTuple):
    slug: str
    role: str
    as_written: str
    side: str


FIRST_NAMES = (
    FirstName("Иван", "Иваном", "Іван", "Іваном", "Ivan"),
    FirstName("Сергей", "Сергеем", "Сергій", "Сергієм", "Sergei"),
    FirstName("Андрей", "Андреем", "Андрій", "Андрієм", "Andrei"),
    FirstName("Павел", "Павлом", "Павло", "Павлом", "Pavel"),
    FirstName("Николай", "Николаем", "Микола", "Миколою", "Nikolai"),
    FirstName("Михаил", "Михаилом", "Михайло", "Михайлом", "Mikhail"),
    FirstName("Дмитрий", "Дмитрием", "Дмитро", "Дмитром", "Dmitry"),
    FirstName("Виктор", "Виктором", "Віктор", "Віктором", "Viktor"),
)
# Surnames are spelt from these syllables, one per base-16 digit of the person's number: every surname differs,
# so no name form is registered for two people (ambiguous-name).
SYLLABLES = (("ка", "ka"), ("ро", "ro"), ("ме", "me"), ("ли", "li"), ("но", "no"), ("ва", "va"), ("ту", "tu"),
             ("са", "sa"), ("де", "de"), ("би", "bi"), ("го", "go"), ("ла", "la"), ("ми", "mi"), ("ре", "re"),
             ("зу", "zu"), ("па", "pa"))
SIDES = ("us", "belarus", "us", "belarus", "eu")
ROLES = {
    "us": (Role("Special Envoy for Belarus", "специальный посланник США по Беларуси",
                "спеціальний посланець США з питань Білорусі"),
           Role("Deputy Assistant Secretary of State", "заместитель помощника госсекретаря США",
                "заступник помічника держсекретаря США"),
           Role("US Ambassador to Lithuania", "посол США в Литве", "посол США в Литві")),
    "belarus": (Role("Minister of Foreign Affairs of Belarus", "министр иностранных дел Беларуси",
                     "міністр закордонних справ Білорусі"),
                Role("Head of the Presidential Administration of Belarus", "глава администрации президента Беларуси",
                     "голова адміністрації президента Білорусі"),
                Role("Chairman of the KGB of Belarus", "председатель КГБ Беларуси", "голова КДБ Білорусі")),
    "eu": (Role("EU Special Representative", "специальный представитель ЕС", "спеціальний представник ЄС"),
           Role("EU Ambassador to Belarus", "посол ЕС в Беларуси", "посол ЄС у Білорусі")),
}
PLACES = (
    Place("Minsk", "BY", "в Минске", "у Мінську"),
    Place("Vilnius", "LT", "в Вильнюсе", "у Вільнюсі"),
    Place("Warsaw", "PL", "в Варшаве", "у Варшаві"),
    Place("Washington", "US", "в Вашингтоне", "у Вашингтоні"),
    Place("Riga", "LV", "в Риге", "у Ризі"),
)
MONTHS_RU_GEN = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
                 "ноября", "декабря")
MONTHS_RU_PREP = ("январе", "феврале", "марте", "апреле", "мае", "июне", "июле", "августе", "сентябре", "октябре",
                  "ноябре", "декабре")
MONTHS_UK_GEN = ("січня", "лютого", "березня", "квітня", "травня", "червня", "липня", "серпня", "вересня", "жовтня",
                 "листопада", "грудня")
MONTHS_UK_PREP = ("січні", "лютому", "березні", "квітні", "травні", "червні", "липні", "серпні", "вересні", "жовтні",
                  "листопаді", "грудні")
# (authority in English, in Russian after "решением")
AUTHORITIES = (("United States", "США"), ("European Union", "Евросоюза"),
               ("US Department of the Treasury", "Министерства финансов США"))
# (action, the Russian participle: "санкции ... были сняты")
ACTIONS = (("imposed", "введены"), ("tightened", "ужесточены"), ("eased", "смягчены"), ("lifted", "сняты"))
TARGETS = (
    Target("Belavia", "«Белавиа»", "aviation"),
    Target("Belaruskali", "«Беларуськалия»", "potash"),
    Target("Belarusian banks", "белорусских банков", "banking"),
    Target("Belarusian officials", "белорусских чиновников", "individuals"),
    Target("Belarusian exporters", "белорусских экспортёров", "trade"),
)
RELEASES = (
    Release(("LT", "PL"), "Литвы и Польши", "LT", "Литву"),
    Release(("DE", "LV"), "Латвии и Германии", "LV", "Латвию"),
    Release(("US",), "США", "LT", "Литву"),
    Release(("PL",), "Польши", "PL", "Польшу"),
)
UNNAMED = (
    Unnamed("state-department-spokesperson", "State Department spokesperson", "представитель Госдепартамента", "us"),
    Unnamed("kgb-head", "Head of the KGB of Belarus", "глава КГБ Беларуси", "belarus"),
    Unnamed("eu-spokesperson", "European Commission spokesperson", "представитель Еврокомиссии", "eu"),
)
# (English, Russian after "обсудили")
TOPICS = (("the release of political prisoners", "освобождение политических заключённых"),
          ("the return of the US embassy to Minsk", "возвращение посольства США в Минск"),
          ("sanctions on Belarusian companies", "санкции против белорусских компаний"),
          ("trade between the two countries", "торговлю между странами"))
FILLERS_RU = ("Подробности не сообщаются.", "Официальные комментарии пока не поступали.",
              "Источник издания подтвердил эту информацию.", "Ранее об этом писали местные СМИ.")
FILLERS_UK = ("Подробиці не повідомляються.", "Офіційних коментарів поки що немає.",
              "Джерело видання підтвердило цю інформацію.")
OUTLETS = ("Минские новости", "Вестник Полесья", "Балтийский обозреватель", "Київський кур'єр")

"""Names for the fictional city: districts, streets, roads, communities, with their pinyin.

Community and minor-road names are composed from two characters (景 + 苑 → 景苑社区, Jingyuan
Community), which is how many real ones are formed; the pinyin comes from the table below, so every
English name is derived, never typed twice.
"""

from __future__ import annotations

import random

PINYIN: dict[str, str] = {
    "景": "jing", "华": "hua", "新": "xin", "和": "he", "康": "kang", "平": "ping", "安": "an",
    "福": "fu", "瑞": "rui", "锦": "jin", "翠": "cui", "金": "jin", "银": "yin", "玉": "yu",
    "春": "chun", "秋": "qiu", "清": "qing", "明": "ming", "东": "dong", "西": "xi", "南": "nan",
    "北": "bei", "文": "wen", "德": "de", "兴": "xing", "永": "yong", "长": "chang", "云": "yun",
    "凤": "feng", "龙": "long", "苑": "yuan", "园": "yuan", "里": "li", "坊": "fang", "湾": "wan",
    "庭": "ting", "城": "cheng", "港": "gang", "桥": "qiao", "塘": "tang", "岸": "an", "湖": "hu",
    "山": "shan", "村": "cun", "亭": "ting", "河": "he", "溪": "xi", "林": "lin", "晖": "hui",
    "泉": "quan", "源": "yuan", "庆": "qing", "丰": "feng", "阳": "yang", "光": "guang", "江": "jiang",
    "学": "xue", "青": "qing", "惠": "hui", "开": "kai", "仁": "ren", "民": "min", "宁": "ning",
    "富": "fu", "建": "jian", "武": "wu", "海": "hai", "柳": "liu", "桂": "gui", "梅": "mei",
    "竹": "zhu", "杏": "xing", "荷": "he", "枫": "feng", "樟": "zhang", "兰": "lan", "松": "song",
    "芳": "fang", "秀": "xiu", "嘉": "jia", "祥": "xiang", "乐": "le", "泰": "tai", "盛": "sheng",
}

# (zh, en) fixed names.
DISTRICTS: list[tuple[str, str]] = [
    ("明湖区", "Minghu District"),
    ("鼓楼区", "Gulou District"),
    ("东港区", "Donggang District"),
    ("江南区", "Jiangnan District"),
]

STREETS: list[list[tuple[str, str]]] = [
    [("湖滨街道", "Hubin Subdistrict"), ("北山街道", "Beishan Subdistrict"),
     ("西山街道", "Xishan Subdistrict")],
    [("鼓楼街道", "Gulou Subdistrict"), ("文昌街道", "Wenchang Subdistrict"),
     ("清河街道", "Qinghe Subdistrict")],
    [("潮鸣街道", "Chaoming Subdistrict"), ("新塘街道", "Xintang Subdistrict"),
     ("东港街道", "Donggang Subdistrict")],
    [("长河街道", "Changhe Subdistrict"), ("望江街道", "Wangjiang Subdistrict"),
     ("白马街道", "Baima Subdistrict")],
]

_FIRST = "景华新和康平安福瑞锦翠金银玉春秋清明文德兴永长云凤龙嘉祥乐泰盛芳秀"
_SECOND_COMMUNITY = "苑园里坊湾庭城港桥塘岸村亭河溪林"
_FIRST_ROAD = "文武学青光惠开平长仁东西南北清明和兴华新建民庆丰安宁德富春柳桂梅竹杏荷枫樟兰松"
_SECOND_ROAD = "晖林山泉桥塘湾源兴华安庆丰福园城阳光明溪河江湖海"


def pinyin(word: str) -> str:
    """Pinyin of a composed name, capitalised once: 景苑 → Jingyuan."""
    return "".join(PINYIN[ch] for ch in word).capitalize()


def community_names(rng: random.Random, n: int) -> list[tuple[str, str]]:
    pairs = [a + b for a in _FIRST for b in _SECOND_COMMUNITY if a != b]
    rng.shuffle(pairs)
    return [(p + "社区", pinyin(p) + " Community") for p in pairs[:n]]


def minor_road_names(rng: random.Random, n: int, taken: set[str]) -> list[tuple[str, str]]:
    pairs = [a + b for a in _FIRST_ROAD for b in _SECOND_ROAD if a != b]
    rng.shuffle(pairs)
    out: list[tuple[str, str]] = []
    for k, p in enumerate(pairs):
        zh_suffix, en_suffix = ("街", "Street") if k % 4 == 3 else ("路", "Road")
        zh = p + zh_suffix
        if zh in taken:
            continue
        taken.add(zh)
        out.append((zh, f"{pinyin(p)} {en_suffix}"))
        if len(out) == n:
            break
    return out


# Major roads. Vertical (north-south) roads have a name north and south of the river; None means
# the road stops at the river bank (no bridge).
MAJOR_NS: list[tuple[tuple[str, str], tuple[str, str] | None]] = [
    (("环城西路", "Huancheng West Road"), ("江西路", "Jiangxi Road")),
    (("人民路", "Renmin Road"), ("长河路", "Changhe Road")),
    (("中山北路", "Zhongshan North Road"), ("中山南路", "Zhongshan South Road")),
    (("延安路", "Yan'an Road"), ("江虹路", "Jianghong Road")),
    (("建国北路", "Jianguo North Road"), ("建国南路", "Jianguo South Road")),
    (("建设路", "Jianshe Road"), ("江城路", "Jiangcheng Road")),
    (("新华路", "Xinhua Road"), ("江东路", "Jiangdong Road")),
    (("环城东路", "Huancheng East Road"), ("东信大道", "Dongxin Avenue")),
]
# Which vertical majors cross the river on a bridge (index into MAJOR_NS).
BRIDGES: dict[int, tuple[str, str]] = {
    0: ("江城大桥", "Jiangcheng Bridge"),
    2: ("中山大桥", "Zhongshan Bridge"),
    4: ("解放大桥", "Jiefang Bridge"),
    6: ("东港大桥", "Donggang Bridge"),
    7: ("东信大桥", "Dongxin Bridge"),
}
# Horizontal (east-west) majors from south to north; the two river banks are named separately.
MAJOR_EW: list[tuple[str, str]] = [
    ("南环路", "Nanhuan Road"),
    ("江晖路", "Jianghui Road"),
    ("沿江路", "Yanjiang Road"),  # south bank
    ("滨江大道", "Binjiang Avenue"),  # north bank
    ("解放路", "Jiefang Road"),
    ("胜利路", "Shengli Road"),
    ("和平路", "Heping Road"),
    ("环城北路", "Huancheng North Road"),
]
DIAGONALS: list[tuple[str, str]] = [
    ("东新路", "Dongxin Road"),
    ("江南大道", "Jiangnan Avenue"),
]
RIVER = ("澄江", "Cheng River")
LAKE = ("明湖", "Ming Lake")
PARKS: list[tuple[str, str]] = [
    ("明湖公园", "Ming Lake Park"),
    ("滨江公园", "Binjiang Park"),
    ("江南公园", "Jiangnan Park"),
    ("人民公园", "People's Park"),
    ("城东公园", "Chengdong Park"),
    ("江南体育公园", "Jiangnan Sports Park"),
    ("中山公园", "Zhongshan Park"),
]

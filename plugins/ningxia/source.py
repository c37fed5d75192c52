"""The sentences of 宁夏回族自治区民政厅's implementation plan that the plugin implements, quoted verbatim.

Every rule in the plugin points at one of these (its ``source``), and docs/plugins/ningxia.md maps
each to its code and its test. Line breaks of the seed file inside a sentence are removed.
"""

SEED = "ningxia-delegation-to-townships.txt"
DOC = "宁夏回族自治区民政厅"
TITLE = "《关于全面推行最低生活保障等社会救助审核确认权限下放乡镇（街道）的实施方案》"
NATIONAL = "《最低生活保障审核确认办法》（民发〔2021〕57号）"

#: 一、总体目标 — the categories whose confirmation moves to the townships
CATEGORIES = ("深入推进城乡最低生活保障、高龄低收入老年人、特困人员救助供养、低收入家庭认定等社会救助确认权限下放乡镇（街道）"
              "工作落到实处。")
#: 二、（一）2
NOT_TO_VILLAGES = "不得将审核权限下放到村（居）民委员会。"
#: 二、（二）1 — the county
COUNTY_DUTIES = ("对困难群众救助对象家庭进行经济状况核对和入户抽查；负责困难群众救助资金预算编制和资金发放，"
                 "严格按规定专账管理、专款专用，并会同财政部门做好资金监管，杜绝将社会救助资金（除临时救助备用金）"
                 "下放乡镇（街道），确保权钱分离；")
#: 二、（二）2 — the township
TOWNSHIP_DUTIES = ("负责低保等社会救助资格的审核确认工作，包括申请受理、信息录入、入户调查、民主评议、公示公开、政策宣传、"
                   "档案管理等；")
#: 二、（二）3 — the village
VILLAGE_APPLIES = "受救助申请对象委托，代为提出救助申请；"
VILLAGE_NO_DECISION = "无权作出不予受理或不符合低保等社会救助条件的决定。"
#: 二、（三）1
ACCEPT = ("乡镇（街道）应当按照国务院关于政务服务“一窗受理”要求，通过宁夏政务服务系统及时受理低保申请，"
          "对申请人或者其代理人提交的材料进行审查，及时将相关信息录入系统，保证基础信息资料完整准确。")
NO_EXTRA_SEALS = ("适当简化申请材料和受理程序，能够通过信息共享获取的不再要求申请人提供，"
                  "不得增设村（居）民委员会审核签章等附加条件。")
#: 二、（三）2
CHECK = ("申请人履行授权核查收入、财产、支出等家庭经济状况的相关手续后，由乡镇（街道）提交民政部门进行经济状况核对，"
         "并按照相关规定及时开展调查审核工作。")
NO_APPRAISAL = "对没有争议的救助申请对象，可不再进行民主评议。"
#: 二、（三）3
OPINION = ("乡镇（街道）根据申请人申请材料和家庭经济状况信息比对、入户核查、民主评议等结果，提出审核确认意见，"
           "并按规定利用村级公示栏、乡镇（街道）公示栏、电子屏、微信公众号等进行公示；")
OBJECTION = "对有异议的，应组织人员重新开展调查核实；"
DENY = "对不符合条件的，出具不予批准通知书；"
NO_UNVERIFIED = "不得将不经过调查核实的任何群体或者个人直接确认为保障对象。"
ARCHIVE = ("在审核确认过程中，要严格规范使用行政文书，及时填报相关档案信息、台账和报表，救助对象档案应当齐全完整、"
           "统一规范、安全有序保存或处置。")
#: 二、（三）4
DYNAMIC = ("根据低保等社会救助对象的户籍状况、家庭收入、家庭财产及劳动能力等情况进行定期复核、实施动态分类管理，"
           "根据复核情况及时办理低保金停发、减发或者增发手续，并按照要求采取多种方式及时予以公示；")
GRADUAL_EXIT = "对收入超过低保标准暂未实现稳定脱贫或就业的，按规定落实好低保渐退期政策。"
#: 二、（三）5
SUPERVISE = ("发现申请受理不及时、审核确认程序不到位、对象认定不精准、资金发放不合规、救助办理超时限等问题，"
             "民政部门要及时查实、依法纠正，乡镇（街道）要加强自查，尽快整改，必要时应当撤销原确认决定。")

#: 二、（三）3: where publicity is posted, in the source's words
PUBLICITY_CHANNELS = ("村级公示栏", "乡镇（街道）公示栏", "电子屏", "微信公众号")
NEEDS = ("根据申请对象的实际情况，综合评估救助需求，提出综合实施社会救助措施的意见，并按照职责分工及时办理或转请县级相关职能部门办理。")
#: the county departments a measure beyond the township's remit is referred to (the special assistance of
#: 《社会救助暂行办法》 and the departments that give it), and the county's civil-affairs bureau itself
COUNTY_DEPARTMENTS = ("县医疗保障局", "县教育局", "县住房和城乡建设局", "县人力资源和社会保障局", "县应急管理局",
                      "县残疾人联合会", "县民政局")

RULES = (CATEGORIES, NOT_TO_VILLAGES, COUNTY_DUTIES, TOWNSHIP_DUTIES, VILLAGE_APPLIES, VILLAGE_NO_DECISION, ACCEPT,
         NO_EXTRA_SEALS, CHECK, NO_APPRAISAL, OPINION, OBJECTION, DENY, NO_UNVERIFIED, ARCHIVE, DYNAMIC, GRADUAL_EXIT,
         SUPERVISE, NEEDS)


def cite(*sentences: str) -> str:
    return f"{DOC}{TITLE}：" + "".join(f"“{s}”" for s in sentences)

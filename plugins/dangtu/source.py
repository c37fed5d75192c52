"""The sentences of 《当涂县城乡低保及特困人员审核确认权限委托下放工作实施方案（试行）》 that the plugin
implements, quoted verbatim — with the seed's ASCII punctuation. The seed is a web scrape of the
document: its page markers (“2、”, “5、” …) fall inside sentences and are ignored when the quotes are
checked; its item 5 is cut off after “资金发”.

Every rule of the plugin points at one of these (its ``source``); docs/plugins/dangtu.md maps each
to its code and its test.
"""

DOC = "《当涂县城乡低保及特困人员审核确认权限委托下放工作实施方案（试行）》"
DOCUMENT = DOC
SEED = "dangtu-delegation-to-townships.txt"

DELEGATION = "将城乡居民最低生活保障和特困人员审核确认权限下放至乡镇(园区)。"
PROCESS = ("乡镇(园区)受理城乡低保和特困人员申请,在村(居)委会的协助下,经家庭经济状况核对、入户调查、民主评议、"
           "公开公示等流程后,进行初审、审核确认。")
FILING = "审核确认结果汇总上报至县民政局备案,县民政局对审核确认情况进行监督检查。"
MATERIALS = "推行“一本一书”(户口簿和身份证、家庭经济状况核查授权委托书)申请社会救助的做法。"
PLATFORM_INFO = "可以通过居民家庭经济状况核对平台获取的信息无需申请人提供。"
INVESTIGATION = "注重入户调查和邻里访问,必要时进行信函索证。"
LIMIT = "取消可以通过政务服务平台查询的相关证明材料,将办理时限压缩到20个工作日内(不含公示期)。"
CHECK = "规范家庭经济状况核对平台应用,由乡镇(园区)通过县民政局委托核对机构进行核对,出具核对报告。"
PAYMENT = "救助资金由县民政局委托金融机构和安徽财政惠农补贴资金管理发放系统发放。"
ARCHIVE = ("乡镇(园区)应按要求及时准确完整地录入安徽省最低生活保障信息系统,同时将纸质档案导出保存,"
           "确保电子档案与纸质档案一致。")
ONE_FILE = "纸质档案要一户一档,按照谁确认谁存档的要求,妥善保管好申报审核确认档案、台账和报表。"
COUNTY_REPORT = "负责家庭经济状况核对平台系统调整和大数据信息对接工作,出具核对报告;"
SPOT_CHECK = "负责对新审核确认低保及特困对象入户抽查、监督检查,发现问题及时依法纠正;"
COUNTY_FUNDS = "负责低保、特困相关数据的收集、汇总、统计、上报及资金发"
REPORTS = "负责社会救助政策的宣传咨询、来电来访、举报核查等工作。"

#: every quoted rule sentence, for the verbatim check
RULES = (DELEGATION, PROCESS, FILING, MATERIALS, PLATFORM_INFO, INVESTIGATION, LIMIT, CHECK, PAYMENT, ARCHIVE,
         ONE_FILE, COUNTY_REPORT, SPOT_CHECK, COUNTY_FUNDS, REPORTS)

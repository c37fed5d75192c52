"""The sentences of 《枞阳县社会救助工作便民惠民优化服务行动方案》 that the plugin implements, verbatim.

Every rule of the plugin points at one of these (its ``source``); docs/plugins/zongyang.md maps each
to its code and its test, and tests/plugins/test_zongyang.py checks each is in the seed verbatim
(a line break inside “就业” in the seed is ignored).
"""

DOC = "《枞阳县社会救助工作便民惠民优化服务行动方案》"
DOCUMENT = f"{DOC}（2021年9月18日）"
SEED = "zongyang-2021-convenience-action-plan.txt"

GRADUAL_EXIT = "对家庭人均收入超过我市低保标准的，可给予6个月的渐退期，最多不超过12个月；"
WORK_COSTS = "对参加劳动就业、外出务工等必需支出，在核算其家庭收入时，按当地低保标准的30%扣减。"
STABLE_EXIT = "对实施稳定脱贫的家庭，收入高于低保标准且无重病、重残对象的，12个月的渐退期满后，有序退出低保范围。"
PENSION = "“十四五”时期中央确立的城乡及居民基本养老保险基础养老金不计收入。"
DYNAMIC = "健全动态调整机制，对农村低保对象加强监测预警和动态管理"
RELIEF_DELEGATED = "切实做好临时救助审核确认权下放后的政策衔接工作。"
RELIEF_PLACE = "逐步取消户籍地、居住地限制，探索在急难发生地申请临时救助，由急难发生地审核并发放临时救助金。"
RELIEF_ADVANCE = ("强化急难救助功能，可以简化申请人家庭经济状况核对、民主评议和公示等环节，实行“小金额先行救助”，"
                  "并在急难情况缓解后，登记救助对象、救助事由、救助金额等信息，补齐经办人员签字、盖章等手续。")
RELIEF_STAGED = "采取“跟进救助”“一次审批、分阶段救助”等方式，增强救助时效性。"
HOTLINE = "做好“12345”政务服务热线交办社会救助热线工单处置。"
GREEN_CHANNEL = ("为60周岁以上的老年人、重度残疾人等困难群体办理社会救助开通绿色通道，畅通困难群众求助渠道，"
                 "实现及时发现、快速响应、即时救助。")
DELEGATION = ("全面落实低保、特困、临时救助审核确认权下放至乡镇（县经开区），在乡镇（县经开区）建立党委领导、政府负责、"
              "部门参与的社会救助联审联批制度，县民政局加强监督指导。")
NO_APPRAISAL = "对经济状况核对和入户调查无疑义的救助申请家庭，可不进行民主评议。"
LIMIT = "取消可以通过政务服务平台查询的相关证明材料，将低保、特困办理时限压缩到20个工作日内。"
RESIDENCE_PERMIT = "推进持有居住证人员在居住地申办低保等社会救助。"
GRID = ("在农村健全“镇干包村、村干包片”的社会救助网格化服务队伍，在城市社区健全“分管领导包块、网格员包片”的"
        "社会救助网格化服务队伍，将走访、发现困难群众列为村（社区）组织和网格员的重要工作内容。")

#: every quoted rule sentence, for the verbatim check
RULES = (GRADUAL_EXIT, WORK_COSTS, STABLE_EXIT, PENSION, DYNAMIC, RELIEF_DELEGATED, RELIEF_PLACE, RELIEF_ADVANCE,
         RELIEF_STAGED, HOTLINE, GREEN_CHANNEL, DELEGATION, NO_APPRAISAL, LIMIT, RESIDENCE_PERMIT, GRID)

"""Passwords that a guesser tries first. A new password is refused if, lower-cased and with digits
and symbols at either end removed, it is one of these (so ``password12`` and ``Qwerty!1`` go too)."""

COMMON = frozenset(["password", "passw0rd", "passwd", "pass", "admin", "administrator", "root", "guest", "user", "login", "welcome", "letmein", "master", "qwerty", "qwertyuiop", "asdfgh", "asdfghjkl", "zxcvbn", "zxcvbnm", "qazwsx", "qweasd", "abc", "abcd", "abcdef", "abcdefg", "abcdefgh", "iloveyou", "monkey", "dragon", "football", "baseball", "sunshine", "princess", "shadow", "superman", "batman", "trustno1", "secret", "hello", "test", "tester", "changeme", "default", "system", "server", "oracle", "mysql", "postgres", "redis", "jiuzhu", "woaini", "woaini1314", "aini1314", "wodemima", "mima", "zhangsan", "lisi", "wangwu", "laowang", "nihao", "zhongguo", "china", "beijing", "shanghai", "huawei", "xiaomi", "tencent", "baidu", "taobao", "alibaba", "weixin", "wechat", "qq", "minzheng", "minzhengju", "jiuzhu", "dibao", "tekun", "shehuijiuzhu", "anhui", "jiangxi", "ningxia", "gov", "zhengfu", "yonghu", "mimamima", "aaaaaa", "111111", "123123", "123321", "123456", "1234567", "12345678", "123456789", "1234567890", "0123456789", "987654321", "666666", "888888", "520520", "521521", "147258", "147258369", "159753", "112233", "654321", "000000"])


def is_common(password: str) -> bool:
    core = password.lower().strip("0123456789!@#$%^&*()_+-=.,?~`'\"[]{}<>/\\|;: ")
    return not core or core in COMMON or password.lower() in COMMON

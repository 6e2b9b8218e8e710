"""The site above every app: commands that load the whole project (``gongzhi openapi``)."""
